import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PaliadinCore

/// A streaming backend for any server that speaks OpenAI's chat completions API
/// (llama.cpp, Ollama, vLLM, OpenAI itself).
public struct OpenAICompatibleBackend: ChatBackend {
    public let name = "openai"
    public let model: String
    public let mode = TurnWatch.Mode.streaming
    public let keepsConversation = false
    private static let decoder = JSONDecoder()
    /// Base URL ending in the API version, e.g. `http://127.0.0.1:8081/v1`.
    public let baseURL: String
    private let apiKey: String?
    private let httpClient: HTTPClient
    private let headTimeout: TimeAmount
    private let maxLineLength: Int

    /// - Parameters:
    ///   - headTimeout: how long to wait for the response head (the body is watched by the turn's silence rule).
    ///   - maxLineLength: the longest SSE line accepted from the server.
    public init(
        baseURL: String, model: String, apiKey: String?, httpClient: HTTPClient,
        headTimeout: TimeAmount = .seconds(60), maxLineLength: Int = 1 << 20
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.apiKey = apiKey.flatMap { $0.isEmpty ? nil : $0 }
        self.httpClient = httpClient
        self.headTimeout = headTimeout
        self.maxLineLength = maxLineLength
    }

    public func runTurn(_ request: BackendTurnRequest, events: @Sendable (BackendEvent) async -> Void) async throws {
        let response = try await send(request)
        guard response.status == .ok else {
            throw await Self.failure(for: response)
        }
        var state = StreamState()
        try await ArrivedEvents.relayStream(response, maxLineLength: maxLineLength, events: events) { item, arrived in
            try interpret(item, state: &state, into: &arrived)
            return state.sawDone
        }
        guard state.sawDone || state.sawFinishReason else {
            try Task.checkCancellation()
            throw BackendFailure(code: TurnErrorCode.upstreamError, message: "the backend's stream ended before the answer was complete", retryable: true)
        }
    }

    /// Sends the request and waits for the response head.
    private func send(_ request: BackendTurnRequest) async throws -> UpstreamStream {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "text/event-stream")
        if let apiKey { headers.add(name: "Authorization", value: "Bearer \(apiKey)") }
        let body = try JSONEncoder().encode(OpenAIRequestBody(model: model, messages: request.messages))
        return try await UpstreamStream.open(
            httpClient, url: baseURL + "/chat/completions", headers: headers, body: body, headTimeout: headTimeout, baseURL: baseURL)
    }

    /// What a stream has shown so far.
    struct StreamState {
        var usedTools: [String] = []
        var sawFinishReason = false
        var sawDone = false
    }

    /// An HTTP client set up for backends: a refused connection fails at once (so the turn
    /// ends with `backend_unavailable`) instead of being retried until the request deadline.
    ///
    /// - Parameter maxConnections: connections to one backend open at once. A streaming turn
    ///   holds its connection for the whole answer, so this bounds the turns streaming at once
    ///   (more wait for a free connection).
    /// - Parameter idleTimeout: how long an unused connection is kept for the next turn.
    public static func makeHTTPClient(maxConnections: Int = 512, idleTimeout: Duration = .seconds(10)) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, maxConnections)
        configuration.connectionPool.idleTimeout = .nanoseconds(Int64(max(idleTimeout, .milliseconds(1)) / .nanoseconds(1)))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Turns one parsed item into backend events.
    private func interpret(_ item: ServerSentEventParser.Item, state: inout StreamState, into arrived: inout ArrivedEvents) throws {
        switch item {
        case .comment:
            arrived.append(.heartbeat)
        case .event(let event):
            let data = event.data
            switch Self.classify(data) {
            case .blank: return
            case .done:
                state.sawDone = true
                return
            case .json: break
            }
            let chunk: OpenAIChunk
            do {
                chunk = try Self.decoder.decode(OpenAIChunk.self, from: Data(data.utf8))
            } catch {
                throw BackendFailure(
                    code: TurnErrorCode.upstreamError, message: "the backend sent a chunk that is not valid JSON: \(data.prefix(200))",
                    retryable: true)
            }
            if let error = chunk.error {
                throw BackendFailure(code: TurnErrorCode.upstreamError, message: error.message ?? "the backend reported an error", retryable: true)
            }
            for choice in chunk.choices ?? [] {
                if let content = choice.delta?.content, !content.isEmpty {
                    arrived.append(.chunk(content))
                }
                let names = (choice.delta?.toolCalls ?? []).compactMap { $0.function?.name }.filter { !state.usedTools.contains($0) }
                if !names.isEmpty {
                    state.usedTools += names
                    arrived.append(.meta(BackendMeta(usedTools: state.usedTools)))
                }
                if choice.finishReason != nil { state.sawFinishReason = true }
            }
            if let usage = chunk.usage {
                arrived.append(.usage(tokensIn: usage.promptTokens, tokensOut: usage.completionTokens))
            }
        }
    }

    /// What a `data:` payload holds, told apart without decoding it.
    enum Payload {
        case blank, done, json
    }

    /// Classifies a payload by its bytes: blank, the `[DONE]` marker (spaces around it
    /// allowed), or anything else, which must be a JSON chunk. Runs once per chunk, so it
    /// only looks at the ends of the payload.
    static func classify(_ data: String) -> Payload {
        let bytes = data.utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return .blank }
        guard bytes[first] == UInt8(ascii: "[") else { return .json }
        let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) ?? first
        return bytes[first...last].elementsEqual("[DONE]".utf8) ? .done : .json
    }

    /// The failure for a non-200 response: 429 and 5xx may pass, other 4xx will not.
    static func failure(for response: UpstreamStream) async -> BackendFailure {
        let status = response.status
        let body = await response.collect(upTo: 64 * 1024)
        let detail = (try? JSONDecoder().decode(OpenAIErrorBody.self, from: Data(body.utf8)))?.text ?? String(body.prefix(300))
        let retryable = status == .tooManyRequests || status.code >= 500
        var message = "the backend answered \(status.code) \(status.reasonPhrase)"
        if !detail.isEmpty { message += ": \(detail)" }
        if status == .tooManyRequests, let retryAfter = response.headers.first(name: "Retry-After") {
            message += " (retry after \(retryAfter) s)"
        }
        return BackendFailure(code: TurnErrorCode.upstreamError, message: message, retryable: retryable)
    }
}

/// The JSON body of a streaming chat completions request.
struct OpenAIRequestBody: Encodable {
    struct StreamOptions: Encodable {
        var includeUsage = true

        enum CodingKeys: String, CodingKey {
            case includeUsage = "include_usage"
        }
    }

    var model: String
    var messages: [ConversationMessage]
    var stream = true
    var streamOptions = StreamOptions()

    enum CodingKeys: String, CodingKey {
        case model, messages, stream
        case streamOptions = "stream_options"
    }
}
