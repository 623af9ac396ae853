import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// An in-process Anthropic Messages API (`POST /v1/messages`, streaming) for tests.
///
/// It replays the documented event sequence (`message_start`, `content_block_start`,
/// `content_block_delta`..., `content_block_stop`, `message_delta`, `message_stop`), steered
/// by the words after `anthropic:` in the last user message:
/// - `text` (the default): a ping and one text block in four deltas, `Hello from Claude.`
/// - `tool`: text, a `tool_use` block `lookup_orders` with `input_json_delta` parts, text,
///   a `tool_use` block `count_rows`, text
/// - `thinking`: a thinking block (`thinking_delta`, `signature_delta`), then the text
/// - `overloaded`: `Partial answer` then an `error` event of type `overloaded_error`;
///   `error=TYPE` does the same with any error type
/// - `status=N`: answers status `N` with Anthropic's JSON error body (`mock failure N`), and
///   `retry-after: 7` for 429, 503 and 529; with `echokey` the message repeats the API key
///   the request sent (a careless proxy)
/// - `cut`: some text, then the connection drops
/// - `truncated`: some text, then the response ends cleanly without `message_stop`
/// - `unknown`: event types the API might add later between the text deltas
/// - `silent`: `message_start` and one delta, then nothing until the client leaves
/// - `deltas=N burst`: `N` text deltas (`t1 `, `t2 `, ...) written in one buffer
/// - `delay=Xms` (with any of them): a pause between events
public final class MockAnthropicUpstream: Sendable {
    /// A request as the mock received it.
    public struct RecordedRequest: Sendable {
        /// The `x-api-key` header (nil when absent).
        public var apiKey: String?
        /// The `anthropic-version` header (nil when absent).
        public var anthropicVersion: String?
        /// The `content-type` header.
        public var contentType: String?
        /// The decoded JSON body.
        public var body: JSONRequest
    }

    /// The part of a request body the tests look at.
    public struct JSONRequest: Sendable, Decodable {
        /// One message of `messages` (text content only).
        public struct Message: Sendable, Decodable, Equatable {
            public var role: String
            public var content: String

            public init(role: String, content: String) {
                self.role = role
                self.content = content
            }
        }

        public var model: String
        public var maxTokens: Int
        public var stream: Bool?
        public var system: String?
        public var messages: [Message]

        enum CodingKeys: String, CodingKey {
            case model, stream, system, messages
            case maxTokens = "max_tokens"
        }
    }

    /// The requests received, oldest first.
    public var requests: [RecordedRequest] { received.withLock { $0 } }
    private let received = Mutex<[RecordedRequest]>([])

    public init() {}

    /// The text the default script streams.
    public static let defaultAnswer = "Hello from Claude."
    /// The text the `tool` script streams around its tool calls.
    public static let toolAnswer = "Let me look. Found 3 orders. That is all."
    /// The text the `overloaded` and `error=TYPE` scripts stream before failing.
    public static let partialAnswer = "Partial answer"
    /// `input_tokens` of `message_start`.
    public static let inputTokens = 21
    /// `output_tokens` of `message_delta`.
    public static let outputTokens = 9

    /// Runs the mock on a loopback port (a free one by default) for the duration of `body`,
    /// handing it the base URL (`http://127.0.0.1:PORT`, without `/v1`).
    public func run<T: Sendable>(port requestedPort: Int = 0, _ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("v1/messages") { request, context in try await self.messages(request, context: context) }
        return try await LoopbackServer.run(router, name: "mock-anthropic", port: requestedPort) { port in
            try await body("http://127.0.0.1:\(port)")
        }
    }

    private func messages(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        let parsed = try JSONDecoder().decode(JSONRequest.self, from: Data(buffer: bytes))
        let apiKey = Self.header("x-api-key", of: request)
        received.withLock {
            $0.append(
                RecordedRequest(
                    apiKey: apiKey, anthropicVersion: Self.header("anthropic-version", of: request),
                    contentType: Self.header("content-type", of: request), body: parsed))
        }
        let script = Script(parsed.messages.last(where: { $0.role == "user" })?.content ?? "")
        if let status = script.status {
            return Self.errorResponse(status: status, echoing: script.echoKey ? apiKey : nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                try await Self.play(script, to: &writer)
                try await writer.finish(nil)
            })
    }

    /// Writes the events a script asks for.
    private static func play(_ script: Script, to writer: inout some ResponseBodyWriter) async throws {
        var first = true
        func send(_ frame: ByteBuffer) async throws {
            if !first, script.delay > .zero { try await Task.sleep(for: script.delay) }
            first = false
            try await writer.write(frame)
        }
        try await send(messageStart())
        switch script.kind {
        case .text:
            try await send(event("ping", #"{"type":"ping"}"#))
            for frame in textBlock(index: 0, ["Hello", " from", " Claude", "."]) { try await send(frame) }
        case .tool:
            for frame in textBlock(index: 0, ["Let me", " look."]) { try await send(frame) }
            for frame in toolBlock(index: 1, name: "lookup_orders", parts: [#"{"custo"#, #"mer_id": "#, "42}"]) { try await send(frame) }
            for frame in textBlock(index: 2, [" Found 3", " orders."]) { try await send(frame) }
            for frame in toolBlock(index: 3, name: "count_rows", parts: [#"{"table":"orders"}"#]) { try await send(frame) }
            for frame in textBlock(index: 4, [" That is", " all."]) { try await send(frame) }
        case .thinking:
            try await send(blockStart(index: 0, #"{"type":"thinking","thinking":""}"#))
            try await send(delta(index: 0, #"{"type":"thinking_delta","thinking":"The user greets me."}"#))
            try await send(delta(index: 0, #"{"type":"signature_delta","signature":"c2lnbmF0dXJl"}"#))
            try await send(blockStop(index: 0))
            for frame in textBlock(index: 1, ["Hello", " from", " Claude", "."]) { try await send(frame) }
        case .error(let type):
            try await send(blockStart(index: 0, #"{"type":"text","text":""}"#))
            try await send(textDelta(index: 0, "Partial"))
            try await send(textDelta(index: 0, " answer"))
            try await send(event("error", #"{"type":"error","error":{"type":"\#(type)","message":"Mock says \#(type)"}}"#))
            return
        case .cut, .truncated:
            try await send(blockStart(index: 0, #"{"type":"text","text":""}"#))
            try await send(textDelta(index: 0, "Hello"))
            try await send(textDelta(index: 0, " from"))
            if case .cut = script.kind {
                // Let the events reach the client, then die without finishing the response.
                try await Task.sleep(for: .milliseconds(50))
                throw CutConnection()
            }
            return
        case .unknown:
            try await send(blockStart(index: 0, #"{"type":"text","text":""}"#))
            try await send(textDelta(index: 0, "Hello"))
            try await send(event("mystery_event", #"{"type":"mystery_event","payload":{"nested":[1,2,3]}}"#))
            try await send(textDelta(index: 0, " from"))
            try await send(event("future_event", #"{"type":"future_event","delta":"a shape no known event has"}"#))
            try await send(textDelta(index: 0, " Claude"))
            try await send(textDelta(index: 0, "."))
            try await send(blockStop(index: 0))
        case .silent:
            try await send(blockStart(index: 0, #"{"type":"text","text":""}"#))
            try await send(textDelta(index: 0, "Hello"))
            try await Task.sleep(for: .seconds(3600))
        case .burst(let count):
            var burst = blockStart(index: 0, #"{"type":"text","text":""}"#)
            for number in 1...max(count, 1) { burst.writeImmutableBuffer(textDelta(index: 0, "t\(number) ")) }
            burst.writeImmutableBuffer(blockStop(index: 0))
            try await send(burst)
        }
        try await send(
            event(
                "message_delta",
                #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":\#(outputTokens)}}"#
            ))
        try await send(event("message_stop", #"{"type":"message_stop"}"#))
    }

    struct CutConnection: Error {}

    /// The value of a request header, by lowercase name.
    private static func header(_ name: String, of request: Request) -> String? {
        request.headers.first(where: { $0.name.canonicalName == name })?.value
    }

    /// An error response with Anthropic's error body.
    private static func errorResponse(status: Int, echoing apiKey: String?) -> Response {
        let type =
            switch status {
            case 400: "invalid_request_error"
            case 401: "authentication_error"
            case 403: "permission_error"
            case 404: "not_found_error"
            case 413: "request_too_large"
            case 429: "rate_limit_error"
            case 529: "overloaded_error"
            default: "api_error"
            }
        var message = "mock failure \(status)"
        if let apiKey { message += " for key \(apiKey)" }
        var headers: HTTPFields = [.contentType: "application/json"]
        if [429, 503, 529].contains(status), let retryAfter = HTTPField.Name("retry-after") {
            headers[retryAfter] = "7"
        }
        let body = #"{"type":"error","error":{"type":"\#(type)","message":\#(jsonString(message))},"request_id":"req_mock"}"#
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    // MARK: - Frames

    static func event(_ name: String, _ json: String) -> ByteBuffer {
        ByteBuffer(string: "event: \(name)\ndata: \(json)\n\n")
    }

    static func messageStart() -> ByteBuffer {
        event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","content":[],"model":"claude-mock","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":\#(inputTokens),"output_tokens":1}}}"#
        )
    }

    static func blockStart(index: Int, _ block: String) -> ByteBuffer {
        event("content_block_start", #"{"type":"content_block_start","index":\#(index),"content_block":\#(block)}"#)
    }

    static func delta(index: Int, _ delta: String) -> ByteBuffer {
        event("content_block_delta", #"{"type":"content_block_delta","index":\#(index),"delta":\#(delta)}"#)
    }

    static func textDelta(index: Int, _ text: String) -> ByteBuffer {
        delta(index: index, #"{"type":"text_delta","text":\#(jsonString(text))}"#)
    }

    static func blockStop(index: Int) -> ByteBuffer {
        event("content_block_stop", #"{"type":"content_block_stop","index":\#(index)}"#)
    }

    static func textBlock(index: Int, _ pieces: [String]) -> [ByteBuffer] {
        [blockStart(index: index, #"{"type":"text","text":""}"#)] + pieces.map { textDelta(index: index, $0) } + [blockStop(index: index)]
    }

    static func toolBlock(index: Int, name: String, parts: [String]) -> [ByteBuffer] {
        [blockStart(index: index, #"{"type":"tool_use","id":"toolu_\#(index)","name":"\#(name)","input":{}}"#)]
            + parts.map { delta(index: index, #"{"type":"input_json_delta","partial_json":\#(jsonString($0))}"#) }
            + [blockStop(index: index)]
    }

    /// A string as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        (try? JSONEncoder().encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
    }

    /// The behaviour a message asks for.
    struct Script {
        enum Kind {
            case text, tool, thinking, cut, truncated, unknown, silent
            case error(String)
            case burst(Int)
        }

        var kind: Kind = .text
        var status: Int?
        var echoKey = false
        var delay: Duration = .zero

        init(_ message: String) {
            guard let start = message.range(of: "anthropic:") else { return }
            for word in message[start.upperBound...].split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                let value = parts.count > 1 ? parts[1] : ""
                switch parts[0] {
                case "text": kind = .text
                case "tool": kind = .tool
                case "thinking": kind = .thinking
                case "overloaded": kind = .error("overloaded_error")
                case "error": kind = .error(value)
                case "status": status = Int(value)
                case "echokey": echoKey = true
                case "cut": kind = .cut
                case "truncated": kind = .truncated
                case "unknown": kind = .unknown
                case "silent": kind = .silent
                case "deltas", "burst": if let count = Int(value) { kind = .burst(count) }
                case "delay": delay = .milliseconds(Int(value.replacingOccurrences(of: "ms", with: "")) ?? 0)
                default: break
                }
            }
        }
    }

    /// The answer `deltas=N burst` produces.
    public static func burstAnswer(_ count: Int) -> String {
        (1...max(count, 1)).map { "t\($0) " }.joined()
    }
}
