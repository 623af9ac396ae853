import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PaliadinCore

/// A streaming backend for Anthropic's Messages API (`POST /v1/messages` with `"stream": true`).
///
/// The API is stateless: each turn sends the system prompt and the session's earlier turns.
/// The API key goes only into the `x-api-key` header; it is removed from every failure message.
public struct AnthropicMessagesBackend: ChatBackend {
    public let name = "anthropic"
    public let model: String
    public let mode = TurnWatch.Mode.streaming
    public let keepsConversation = false
    /// The API's base URL, without the version path (`https://api.anthropic.com`).
    public let baseURL: String
    /// The API version sent as `anthropic-version`.
    public let anthropicVersion: String
    /// The most tokens the model may write in one answer (`max_tokens`).
    public let maxTokens: Int
    private let apiKey: String
    private let httpClient: HTTPClient
    private let headTimeout: TimeAmount
    private let maxLineLength: Int
    private static let decoder = JSONDecoder()

    /// - Parameters:
    ///   - baseURL: where the API is; requests go to `{baseURL}/v1/messages`.
    ///   - model: the model to ask for, e.g. `claude-sonnet-4-5`.
    ///   - apiKey: sent as `x-api-key` (not sent when empty, for a proxy that adds it).
    ///   - anthropicVersion: sent as `anthropic-version`.
    ///   - maxTokens: the answer's token limit.
    ///   - httpClient: a shared client, e.g. one from `OpenAICompatibleBackend.makeHTTPClient()`.
    ///   - headTimeout: how long to wait for the response head (the body is watched by the turn's silence rule).
    ///   - maxLineLength: the longest SSE line accepted from the server.
    public init(
        baseURL: String = "https://api.anthropic.com", model: String, apiKey: String, anthropicVersion: String = "2023-06-01",
        maxTokens: Int = 4096, httpClient: HTTPClient, headTimeout: TimeAmount = .seconds(60), maxLineLength: Int = 1 << 20
    ) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.model = model
        self.apiKey = apiKey
        self.anthropicVersion = anthropicVersion
        self.maxTokens = max(1, maxTokens)
        self.httpClient = httpClient
        self.headTimeout = headTimeout
        self.maxLineLength = maxLineLength
    }

    public func runTurn(_ request: BackendTurnRequest, events: @Sendable (BackendEvent) async -> Void) async throws {
        do {
            try await stream(request, events: events)
        } catch let failure as BackendFailure {
            throw redacted(failure)
        }
    }

    private func stream(_ request: BackendTurnRequest, events: @Sendable (BackendEvent) async -> Void) async throws {
        let response = try await send(request)
        guard response.status == .ok else {
            throw await Self.failure(for: response)
        }
        var state = StreamState()
        try await ArrivedEvents.relayStream(response, maxLineLength: maxLineLength, events: events) { item, arrived in
            try interpret(item, state: &state, into: &arrived)
            return state.sawMessageStop
        }
        guard state.sawMessageStop else {
            try Task.checkCancellation()
            throw BackendFailure(code: TurnErrorCode.upstreamError, message: "the backend's stream ended before the answer was complete", retryable: true)
        }
    }

    /// Sends the request and waits for the response head.
    private func send(_ request: BackendTurnRequest) async throws -> UpstreamStream {
        guard let body = AnthropicRequestBody(model: model, maxTokens: maxTokens, conversation: request.messages) else {
            throw BackendFailure(code: TurnErrorCode.internalError, message: "the turn has no user message to send", retryable: false)
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: "text/event-stream")
        headers.add(name: "anthropic-version", value: anthropicVersion)
        if !apiKey.isEmpty { headers.add(name: "x-api-key", value: apiKey) }
        return try await UpstreamStream.open(
            httpClient, url: baseURL + "/v1/messages", headers: headers, body: try JSONEncoder().encode(body), headTimeout: headTimeout,
            baseURL: baseURL)
    }

    /// The failure with the API key taken out of its message, whatever put it there.
    private func redacted(_ failure: BackendFailure) -> BackendFailure {
        guard !apiKey.isEmpty, failure.message.contains(apiKey) else { return failure }
        var failure = failure
        failure.message = failure.message.replacingOccurrences(of: apiKey, with: "[redacted]")
        return failure
    }

    /// What a stream has shown so far.
    struct StreamState {
        var usedTools: [String] = []
        var tokensIn: Int?
        var stopReason: String?
        var sawMessageStop = false
    }

    /// Turns one parsed item into backend events.
    private func interpret(_ item: ServerSentEventParser.Item, state: inout StreamState, into arrived: inout ArrivedEvents) throws {
        guard case .event(let raw) = item else {
            arrived.append(.heartbeat)
            return
        }
        guard let event = try Self.decode(raw) else { return }
        switch event.kind {
        case .messageStart:
            state.tokensIn = event.message?.usage?.inputTokens ?? state.tokensIn
        case .contentBlockStart:
            if let tool = event.contentBlock?.toolName, !state.usedTools.contains(tool) {
                state.usedTools.append(tool)
                arrived.append(.meta(BackendMeta(usedTools: state.usedTools)))
            }
        case .contentBlockDelta:
            if event.delta?.type == "text_delta" {
                if let text = event.delta?.text, !text.isEmpty { arrived.append(.chunk(text)) }
            } else {
                // Tool input, thinking, signatures: not part of the answer, but the model is at work.
                arrived.append(.heartbeat)
            }
        case .contentBlockStop, .unknown:
            break
        case .messageDelta:
            if let reason = event.delta?.stopReason { state.stopReason = reason }
            if let usage = event.usage {
                state.tokensIn = usage.inputTokens ?? state.tokensIn
                arrived.append(.usage(tokensIn: state.tokensIn, tokensOut: usage.outputTokens))
            }
        case .messageStop:
            state.sawMessageStop = true
        case .ping:
            arrived.append(.heartbeat)
        case .error:
            let detail = event.error
            var message = "the backend reported \(detail?.type ?? "an error")"
            if let text = detail?.message, !text.isEmpty { message += ": \(text)" }
            throw BackendFailure(code: TurnErrorCode.upstreamError, message: message, retryable: detail?.isRetryable ?? true)
        }
    }

    /// Decodes an event's JSON; nil for a blank payload or an event type this backend does not know.
    static func decode(_ raw: ServerSentEventParser.Event) throws -> AnthropicStreamEvent? {
        guard raw.data.contains(where: { !$0.isWhitespace }) else { return nil }
        let data = Data(raw.data.utf8)
        if let event = try? decoder.decode(AnthropicStreamEvent.self, from: data) {
            if event.type == nil, let name = raw.name {
                var named = event
                named.type = name
                return named.kind == .unknown ? nil : named
            }
            return event.kind == .unknown ? nil : event
        }
        // A shape this backend does not read: fine for a new event type, an error for a known one.
        if let envelope = try? decoder.decode(AnthropicEventEnvelope.self, from: data),
            AnthropicStreamEvent.Kind(envelope.type ?? raw.name) == .unknown
        {
            return nil
        }
        throw BackendFailure(
            code: TurnErrorCode.upstreamError, message: "the backend sent an event that could not be read: \(raw.data.prefix(200))",
            retryable: true)
    }

    /// The failure for a non-200 response: 429 and 5xx (Anthropic's 529 "overloaded" too) may
    /// pass, other 4xx will not. The message carries Anthropic's error message and `retry-after`.
    static func failure(for response: UpstreamStream) async -> BackendFailure {
        let status = response.status
        let body = await response.collect(upTo: 64 * 1024)
        let error = (try? decoder.decode(AnthropicErrorBody.self, from: Data(body.utf8)))?.error
        let detail = error?.message ?? String(body.prefix(300))
        let retryable = status == .tooManyRequests || status.code >= 500
        var message = "the backend answered \(status.code)"
        if !status.reasonPhrase.isEmpty { message += " \(status.reasonPhrase)" }
        if !detail.isEmpty { message += ": \(detail)" }
        if let type = error?.type { message += " (\(type))" }
        if let retryAfter = response.headers.first(name: "retry-after") {
            message += " (retry after \(retryAfter) s)"
        }
        return BackendFailure(code: TurnErrorCode.upstreamError, message: message, retryable: retryable)
    }
}

/// The JSON body of a streaming Messages request.
struct AnthropicRequestBody: Encodable {
    struct Message: Encodable, Equatable {
        var role: String
        var content: String
    }

    var model: String
    var maxTokens: Int
    var stream = true
    var system: String?
    var messages: [Message]

    enum CodingKeys: String, CodingKey {
        case model, stream, system, messages
        case maxTokens = "max_tokens"
    }

    /// Builds a valid request from OpenAI-style messages: system messages are joined into the
    /// top-level `system`; blank messages are dropped; adjacent messages of one role are joined;
    /// assistant messages before the first user message, and after the last, are dropped, so the
    /// list starts and ends with the user and alternates. Nil when no user message is left.
    init?(model: String, maxTokens: Int, conversation: [ConversationMessage]) {
        var systemParts: [String] = []
        var turns: [Message] = []
        for message in conversation where message.content.contains(where: { !$0.isWhitespace }) {
            switch message.role {
            case .system:
                systemParts.append(message.content)
            case .user, .assistant:
                if message.role == .assistant, turns.isEmpty { continue }
                if let last = turns.last, last.role == message.role.rawValue {
                    turns[turns.count - 1].content += "\n\n" + message.content
                } else {
                    turns.append(Message(role: message.role.rawValue, content: message.content))
                }
            }
        }
        if turns.last?.role == ConversationMessage.Role.assistant.rawValue { turns.removeLast() }
        guard !turns.isEmpty else { return nil }
        self.model = model
        self.maxTokens = maxTokens
        self.system = systemParts.isEmpty ? nil : systemParts.joined(separator: "\n\n")
        self.messages = turns
    }
}
