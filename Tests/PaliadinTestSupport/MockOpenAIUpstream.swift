import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// An in-process OpenAI-compatible chat completions server for tests.
///
/// What it does is steered by the last user message of each request, so one server can
/// play many parts at once:
/// - `mock:chunks=N delay=Xms` streams `N` chunks (`t1 `, `t2 `, ...) `X` ms apart, then usage and `[DONE]`
/// - `mock:chunks=N burst` writes the `N` chunks in one buffer, as a fast server's burst arrives
/// - `mock:chunks=N together` writes the `N` chunks as `N` HTTP chunks in one write, as tokens
///   that piled up in a busy server's socket arrive
/// - `mock:status=500` (or any status) answers with that status and a JSON error
/// - `mock:cut=K` streams `K` chunks, then drops the connection without `[DONE]`
/// - `mock:silent` sends the response head and then nothing until the client leaves
/// - `mock:pings=K delay=Xms` sends `K` comment keep-alives `X` ms apart, then one chunk
/// - `mock:garbage` sends a chunk that is not JSON
/// - `mock:endless` starts a `data:` line and never ends it (64 KiB at a time, up to 64 MiB)
/// - `mock:huge=N` streams N MiB of text, in chunks of 16 KiB (`delay=Xms` apart)
/// - `mock:status=429` also sends `Retry-After: 7`
/// - `mock:flaky=KEY` answers 500 to the first request naming `KEY`, and `Hello from the mock.` after that
/// - `mock:answer=NAME` streams one of `cannedAnswers` (Markdown, a script injection attempt, ...)
///   word by word (`delay=Xms` apart)
/// - `tag=NAME` (with any of the above) records when the first and the last content chunks were written
/// - anything else: the answer `Hello from the mock.` in three chunks
public final class MockOpenAIUpstream: Sendable {
    /// Bodies of the requests received, oldest first.
    public var requests: [JSONRequest] { received.withLock { $0 } }
    private let received = Mutex<[JSONRequest]>([])
    /// When the first content chunk of a request tagged `tag=NAME` was written, by tag.
    public func firstContentWritten(tag: String) -> ContinuousClock.Instant? { firstContent.withLock { $0[tag] } }
    private let firstContent = Mutex<[String: ContinuousClock.Instant]>([:])
    /// When the last content chunk of a request tagged `tag=NAME` was written, by tag.
    public func lastContentWritten(tag: String) -> ContinuousClock.Instant? { lastContent.withLock { $0.written[tag] } }
    /// Returns once the last content chunk of the request tagged `tag=NAME` has been written.
    public func waitForLastContent(tag: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let written = lastContent.withLock { state in
                if state.written[tag] != nil { return true }
                state.waiters[tag, default: []].append(continuation)
                return false
            }
            if written { continuation.resume() }
        }
    }
    private let lastContent = Mutex(LastContent())
    private struct LastContent {
        var written: [String: ContinuousClock.Instant] = [:]
        var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private func recordLastContent(tag: String) {
        let waiters = lastContent.withLock { state in
            state.written[tag] = ContinuousClock.now
            return state.waiters.removeValue(forKey: tag) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }
    /// `Authorization` headers of the requests received (nil when absent), oldest first.
    public var authorizations: [String?] { receivedAuthorizations.withLock { $0 } }
    private let receivedAuthorizations = Mutex<[String?]>([])
    /// The `flaky=KEY` keys already failed once.
    private let failedKeys = Mutex<Set<String>>([])

    /// The part of a request the tests look at.
    public struct JSONRequest: Sendable, Decodable {
        public struct Message: Sendable, Decodable {
            public var role: String
            public var content: String
        }

        public var model: String
        public var stream: Bool?
        public var messages: [Message]
    }

    public init() {}

    /// The answer the default script produces.
    public static let defaultAnswer = "Hello from the mock."

    /// Answers that `mock:answer=NAME` streams.
    public static let cannedAnswers: [String: String] = [
        "markdown": """
            ## Sea colours

            The sea can be **blue**, *green* or `grey`:

            - deep blue
            - emerald green
              - in the shallows
            1. first
            2. second

            ```swift
            let sea = "blue"
            ```

            > Read more at [the atlas](https://example.org/atlas).
            """,
        "xss": """
            Careful: <script>window.__paliadinXSS = 1</script> and <img src=x onerror="window.__paliadinXSS = 2">             and [a link](javascript:window.__paliadinXSS=3) and <b>bold?</b> stay text.
            """,
        "unicode": "Grüße aus Köln — 東京で 会いましょう 🙂 👍🏽 👩‍👩‍👧 e\u{301}te \"quoted\" back\\slash\nline two\r\nline three\ttab ∑∫√ 𝄞 data: id: 7\n\nevent: end end.",
    ]

    /// Runs the mock on a loopback port (a free one by default) for the duration of `body`,
    /// handing it the base URL (`http://127.0.0.1:PORT/v1`).
    public func run<T: Sendable>(port requestedPort: Int = 0, _ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("v1/chat/completions") { request, context in try await self.complete(request, context: context) }
        return try await LoopbackServer.run(router, name: "mock-upstream", port: requestedPort) { port in
            try await body("http://127.0.0.1:\(port)/v1")
        }
    }

    private func complete(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        let parsed = try JSONDecoder().decode(JSONRequest.self, from: Data(buffer: body))
        received.withLock { $0.append(parsed) }
        receivedAuthorizations.withLock { $0.append(request.headers[.authorization]) }
        let script = Script(parsed.messages.last(where: { $0.role == "user" })?.content ?? "")
        var status = script.status
        if let key = script.flakyKey, failedKeys.withLock({ $0.insert(key).inserted }) { status = 503 }
        if let status {
            var headers: HTTPFields = [.contentType: "application/json"]
            if status == 429 { headers[.retryAfter] = "7" }
            return Response(
                status: .init(code: status), headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: #"{"error":{"message":"mock failure \#(status)","type":"server_error"}}"#)))
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                try await writer.write(Self.frame(#"{"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}"#))
                switch script.kind {
                case .silent:
                    try await Task.sleep(for: .seconds(3600))
                case .garbage:
                    try await writer.write(ByteBuffer(string: "data: {not json\n\n"))
                case .endless:
                    try await writer.write(ByteBuffer(string: "data: "))
                    let piece = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                    for _ in 0..<1024 { try await writer.write(piece) }
                case .huge(let mebibytes):
                    let piece = String(repeating: "y", count: 16 * 1024)
                    for index in 0..<(mebibytes * 64) {
                        if index > 0, script.delay > .zero { try await Task.sleep(for: script.delay) }
                        try await writer.write(Self.content(piece))
                    }
                case .pings(let count):
                    for _ in 0..<count {
                        try await Task.sleep(for: script.delay)
                        try await writer.write(ByteBuffer(string: ": ping\n\n"))
                    }
                    try await writer.write(Self.content("pong"))
                case .chunks(let texts, _) where script.burst:
                    var burst = ByteBuffer()
                    for text in texts { burst.writeImmutableBuffer(Self.content(text)) }
                    try await writer.write(burst)
                case .chunks(let texts, _) where script.together:
                    try await writer.write(contentsOf: texts.map(Self.content))
                    if let tag = script.tag { self.recordLastContent(tag: tag) }
                case .chunks(let texts, let cut):
                    for (index, text) in texts.enumerated() {
                        if index > 0, script.delay > .zero { try await Task.sleep(for: script.delay) }
                        try await writer.write(Self.content(text))
                        if index == 0, let tag = script.tag {
                            self.firstContent.withLock { $0[tag] = ContinuousClock.now }
                        }
                        if index == texts.count - 1, let tag = script.tag {
                            self.recordLastContent(tag: tag)
                        }
                    }
                    if cut {
                        // Let the chunks reach the client, then die without finishing the response.
                        try await Task.sleep(for: .milliseconds(50))
                        throw CutConnection()
                    }
                }
                try await writer.write(Self.frame(#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#))
                try await writer.write(Self.frame(#"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}"#))
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            })
    }

    struct CutConnection: Error {}

    static func frame(_ json: String) -> ByteBuffer {
        ByteBuffer(string: "data: \(json)\n\n")
    }

    static func content(_ text: String) -> ByteBuffer {
        let escaped = String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
        return frame(#"{"choices":[{"index":0,"delta":{"content":\#(escaped)},"finish_reason":null}]}"#)
    }

    /// The behaviour a message asks for.
    struct Script {
        enum Kind {
            case chunks([String], cut: Bool)
            case silent
            case garbage
            case endless
            case huge(Int)
            case pings(Int)
        }

        var kind: Kind = .chunks(["Hello", " from the", " mock."], cut: false)
        var status: Int?
        var delay: Duration = .zero
        var tag: String?
        var burst = false
        var together = false
        var flakyKey: String?

        init(_ message: String) {
            guard let start = message.range(of: "mock:") else { return }
            for word in message[start.upperBound...].split(separator: " ") {
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                let value = parts.count > 1 ? parts[1] : ""
                switch parts[0] {
                case "chunks": kind = .chunks((1...max(Int(value) ?? 1, 1)).map { "t\($0) " }, cut: false)
                case "cut": kind = .chunks((1...max(Int(value) ?? 1, 1)).map { "t\($0) " }, cut: true)
                case "status": status = Int(value)
                case "silent": kind = .silent
                case "garbage": kind = .garbage
                case "endless": kind = .endless
                case "huge": kind = .huge(max(Int(value) ?? 1, 1))
                case "tag": tag = value
                case "burst": burst = true
                case "together": together = true
                case "flaky": flakyKey = value
                case "answer":
                    let words = (MockOpenAIUpstream.cannedAnswers[value] ?? "no canned answer named \(value)")
                        .split(separator: " ", omittingEmptySubsequences: false)
                    kind = .chunks(words.enumerated().map { $0.offset == 0 ? String($0.element) : " " + $0.element }, cut: false)
                case "pings": kind = .pings(Int(value) ?? 1)
                case "delay": delay = .milliseconds(Int(value.replacingOccurrences(of: "ms", with: "")) ?? 0)
                default: break
                }
            }
        }
    }

    /// The text `mock:huge=N` streams.
    public static func hugeAnswer(mebibytes: Int) -> String {
        String(repeating: "y", count: mebibytes * 1024 * 1024)
    }

    /// The answer `mock:chunks=N` produces.
    public static func chunkedAnswer(_ count: Int) -> String {
        (1...count).map { "t\($0) " }.joined()
    }
}
