import AsyncHTTPClient
import PaliadinBackends
import PaliadinCore
import PaliadinTestSupport
import Synchronization
import Testing

@Suite("Anthropic Messages backend against the mock upstream")
struct AnthropicMessagesBackendTests {
    static let client = OpenAICompatibleBackend.makeHTTPClient()
    static let apiKey = "sk-ant-test-0123456789-secret"

    /// Runs one turn and collects what the backend reported.
    static func run(
        _ message: String, messages: [ConversationMessage]? = nil, upstream: MockAnthropicUpstream = MockAnthropicUpstream(),
        baseURL: String? = nil
    ) async throws -> (events: [BackendEvent], failure: BackendFailure?) {
        try await upstream.run { mockURL in
            let backend = AnthropicMessagesBackend(
                baseURL: baseURL ?? mockURL, model: "claude-test", apiKey: apiKey, maxTokens: 512, httpClient: client)
            let collected = Mutex<[BackendEvent]>([])
            let request = BackendTurnRequest(
                turnID: TurnID(), userID: "u", sessionID: "s",
                messages: messages ?? [ConversationMessage(role: .system, content: "sys"), ConversationMessage(role: .user, content: message)],
                conversationID: nil)
            do {
                try await backend.runTurn(request) { event in collected.withLock { $0.append(event) } }
                return (collected.withLock { $0 }, nil)
            } catch let failure as BackendFailure {
                return (collected.withLock { $0 }, failure)
            }
        }
    }

    /// The answer's text, from its chunks.
    static func text(of events: [BackendEvent]) -> String {
        events.reduce(into: "") { text, event in
            if case .chunk(let piece) = event { text += piece }
        }
    }

    static func chunks(of events: [BackendEvent]) -> [BackendEvent] {
        events.filter { if case .chunk = $0 { true } else { false } }
    }

    @Test("a stream becomes the exact text and usage; the request carries the key, the version and a valid body")
    func normal() async throws {
        let upstream = MockAnthropicUpstream()
        let (events, failure) = try await Self.run("hello", upstream: upstream)
        #expect(failure == nil)
        #expect(Self.text(of: events) == MockAnthropicUpstream.defaultAnswer)
        #expect(events.last == .usage(tokensIn: MockAnthropicUpstream.inputTokens, tokensOut: MockAnthropicUpstream.outputTokens))
        #expect(events.filter { if case .usage = $0 { true } else { false } }.count == 1)
        let sent = try #require(upstream.requests.first)
        #expect(upstream.requests.count == 1)
        #expect(sent.apiKey == Self.apiKey)
        #expect(sent.anthropicVersion == "2023-06-01")
        #expect(sent.contentType == "application/json")
        #expect(sent.body.model == "claude-test")
        #expect(sent.body.maxTokens == 512)
        #expect(sent.body.stream == true)
        #expect(sent.body.system == "sys")
        #expect(sent.body.messages == [.init(role: "user", content: "hello")])
    }

    @Test("system messages go to the top-level system; the messages start with the user and alternate")
    func conversationShape() async throws {
        let upstream = MockAnthropicUpstream()
        let messages: [ConversationMessage] = [
            .init(role: .system, content: "You help."),
            .init(role: .assistant, content: "A greeting nobody asked for."),
            .init(role: .user, content: "first"),
            .init(role: .user, content: "first, again"),
            .init(role: .assistant, content: "answer one"),
            .init(role: .system, content: "Page: /orders"),
            .init(role: .assistant, content: "   "),
            .init(role: .assistant, content: "answer one, continued"),
            .init(role: .user, content: ""),
            .init(role: .user, content: "second"),
        ]
        let (events, failure) = try await Self.run("", messages: messages, upstream: upstream)
        #expect(failure == nil)
        #expect(Self.text(of: events) == MockAnthropicUpstream.defaultAnswer)
        let sent = try #require(upstream.requests.first)
        #expect(sent.body.system == "You help.\n\nPage: /orders")
        #expect(
            sent.body.messages == [
                .init(role: "user", content: "first\n\nfirst, again"),
                .init(role: "assistant", content: "answer one\n\nanswer one, continued"),
                .init(role: "user", content: "second"),
            ])
    }

    @Test("a trailing assistant message is dropped; no user message at all fails before sending anything")
    func conversationEdges() async throws {
        let upstream = MockAnthropicUpstream()
        let trailing = try await Self.run(
            "", messages: [.init(role: .user, content: "hi"), .init(role: .assistant, content: "half an ans")], upstream: upstream)
        #expect(trailing.failure == nil)
        #expect(upstream.requests.first?.body.messages == [.init(role: "user", content: "hi")])
        #expect(upstream.requests.first?.body.system == nil)

        let empty = MockAnthropicUpstream()
        let none = try await Self.run(
            "", messages: [.init(role: .system, content: "sys"), .init(role: .assistant, content: "hello?")], upstream: empty)
        #expect(none.failure?.code == TurnErrorCode.internalError)
        #expect(none.failure?.retryable == false)
        #expect(empty.requests.isEmpty)
    }

    @Test("tool_use blocks report every tool used so far; tool input is not text but counts as activity")
    func toolUse() async throws {
        let (events, failure) = try await Self.run("anthropic:tool delay=5ms")
        #expect(failure == nil)
        #expect(Self.text(of: events) == MockAnthropicUpstream.toolAnswer)
        let metas = events.compactMap { if case .meta(let meta) = $0 { meta } else { nil } }
        #expect(metas == [BackendMeta(usedTools: ["lookup_orders"]), BackendMeta(usedTools: ["lookup_orders", "count_rows"])])
        #expect(events.contains(.heartbeat), "input_json_delta parts are heartbeats")
        #expect(!Self.text(of: events).contains("customer"))
    }

    @Test("ping events and thinking deltas become heartbeats")
    func heartbeats() async throws {
        let ping = try await Self.run("anthropic:text delay=5ms")
        #expect(ping.failure == nil)
        #expect(ping.events.filter { $0 == .heartbeat }.count == 1)
        #expect(ping.events.firstIndex(of: .heartbeat) ?? 99 < ping.events.firstIndex(of: .chunk("Hello")) ?? -1)

        let thinking = try await Self.run("anthropic:thinking delay=5ms")
        #expect(thinking.failure == nil)
        #expect(thinking.events.contains(.heartbeat), "thinking and signature deltas are heartbeats")
        #expect(Self.text(of: thinking.events) == MockAnthropicUpstream.defaultAnswer)
    }

    @Test("an overloaded error mid-stream is a retryable upstream_error, after the partial text")
    func overloadedMidStream() async throws {
        for delay in ["", " delay=5ms"] {
            let (events, failure) = try await Self.run("anthropic:overloaded" + delay)
            #expect(Self.text(of: events) == MockAnthropicUpstream.partialAnswer)
            let error = try #require(failure)
            #expect(error.code == TurnErrorCode.upstreamError)
            #expect(error.retryable == true)
            #expect(error.message.contains("overloaded_error"))
            #expect(error.message.contains("Mock says overloaded_error"))
        }
    }

    @Test(
        "error events: server trouble is retryable, a bad request is not",
        arguments: [
            ("overloaded_error", true), ("api_error", true), ("rate_limit_error", true), ("timeout_error", true),
            ("invalid_request_error", false), ("authentication_error", false), ("permission_error", false),
            ("not_found_error", false), ("request_too_large", false),
        ])
    func errorEventTypes(type: String, retryable: Bool) async throws {
        let (events, failure) = try await Self.run("anthropic:error=\(type)")
        #expect(Self.text(of: events) == MockAnthropicUpstream.partialAnswer)
        #expect(failure?.code == TurnErrorCode.upstreamError)
        #expect(failure?.retryable == retryable)
    }

    @Test("HTTP errors: 429, 5xx and 529 retryable, other 4xx not, with Anthropic's message and retry-after")
    func httpErrors() async throws {
        for (status, retryable) in [(529, true), (429, true), (500, true), (503, true), (400, false), (401, false), (404, false)] {
            let (events, failure) = try await Self.run("anthropic:status=\(status)")
            #expect(events.isEmpty)
            let error = try #require(failure)
            #expect(error.code == TurnErrorCode.upstreamError)
            #expect(error.retryable == retryable, "\(status)")
            #expect(error.message.contains("\(status)"))
            #expect(error.message.contains("mock failure \(status)"))
            #expect(error.message.contains("retry after 7") == [429, 503, 529].contains(status), "\(status)")
        }
    }

    @Test("a stream cut, or ended without message_stop, is a retryable upstream_error after the text so far")
    func brokenStreams() async throws {
        let cut = try await Self.run("anthropic:cut")
        #expect(Self.text(of: cut.events) == "Hello from")
        #expect(cut.failure?.code == TurnErrorCode.upstreamError)
        #expect(cut.failure?.retryable == true)

        let truncated = try await Self.run("anthropic:truncated")
        #expect(Self.text(of: truncated.events) == "Hello from")
        #expect(truncated.failure?.code == TurnErrorCode.upstreamError)
        #expect(truncated.failure?.retryable == true)
        #expect(truncated.failure?.message.contains("ended before the answer was complete") == true)
    }

    @Test("event types the backend does not know are skipped")
    func unknownEvents() async throws {
        for delay in ["", " delay=5ms"] {
            let (events, failure) = try await Self.run("anthropic:unknown" + delay)
            #expect(failure == nil)
            #expect(Self.text(of: events) == MockAnthropicUpstream.defaultAnswer)
            #expect(!events.contains(.heartbeat))
        }
    }

    @Test("deltas that arrive together are passed on as a few chunks: the first at once, the rest joined")
    func burst() async throws {
        let (events, failure) = try await Self.run("anthropic:deltas=2000 burst")
        #expect(failure == nil)
        #expect(Self.text(of: events) == MockAnthropicUpstream.burstAnswer(2000))
        let chunks = Self.chunks(of: events)
        #expect(chunks.count < 200)
        #expect(chunks.first == .chunk("t1 "))
    }

    @Test("a refused connection is a retryable backend_unavailable")
    func refused() async throws {
        let (_, failure) = try await Self.run("hello", baseURL: "http://127.0.0.1:1")
        #expect(failure?.code == TurnErrorCode.backendUnavailable)
        #expect(failure?.retryable == true)
    }

    @Test("the API key never appears in a failure message, even when the server repeats it")
    func keyNeverInMessages() async throws {
        var failures: [BackendFailure] = []
        for script in ["anthropic:status=401 echokey", "anthropic:status=529 echokey", "anthropic:overloaded", "anthropic:cut"] {
            let (_, failure) = try await Self.run(script)
            failures.append(try #require(failure))
        }
        failures.append(try #require(try await Self.run("hello", baseURL: "http://127.0.0.1:1").failure))
        for failure in failures {
            #expect(!failure.message.contains(Self.apiKey), "\(failure.message)")
        }
        #expect(failures[0].message.contains("[redacted]"))
    }

    @Test("cancelling the turn's task stops a silent stream promptly")
    func cancellation() async throws {
        let upstream = MockAnthropicUpstream()
        try await upstream.run { baseURL in
            let backend = AnthropicMessagesBackend(baseURL: baseURL, model: "claude-test", apiKey: Self.apiKey, httpClient: Self.client)
            let (firstChunk, firstChunkInput) = AsyncStream.makeStream(of: Void.self)
            let request = BackendTurnRequest(
                turnID: TurnID(), userID: "u", sessionID: "s", messages: [.init(role: .user, content: "anthropic:silent")],
                conversationID: nil)
            let turn = Task {
                try await backend.runTurn(request) { event in
                    if case .chunk = event { firstChunkInput.yield() }
                }
            }
            for await _ in firstChunk { break }
            let clock = ContinuousClock()
            let cancelledAt = clock.now
            turn.cancel()
            let result = await turn.result
            #expect(clock.now - cancelledAt < .seconds(2))
            #expect(throws: CancellationError.self) { try result.get() }
        }
    }
}
