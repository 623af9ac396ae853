import AsyncHTTPClient
import PaliadinBackends
import PaliadinCore
import PaliadinTestSupport
import Synchronization
import Testing

@Suite("OpenAI-compatible backend against the mock upstream")
struct OpenAICompatibleBackendTests {
    /// Runs one turn and collects what the backend reported.
    static let client = OpenAICompatibleBackend.makeHTTPClient()

    static func run(
        _ message: String, apiKey: String? = nil, upstream: MockOpenAIUpstream = MockOpenAIUpstream(), baseURL: String? = nil
    ) async throws -> (events: [BackendEvent], failure: BackendFailure?) {
        try await upstream.run { mockURL in
            let backend = OpenAICompatibleBackend(baseURL: baseURL ?? mockURL, model: "smollm2", apiKey: apiKey, httpClient: client)
            let collected = Mutex<[BackendEvent]>([])
            let request = BackendTurnRequest(
                turnID: TurnID(), userID: "u", sessionID: "s",
                messages: [ConversationMessage(role: .system, content: "sys"), ConversationMessage(role: .user, content: message)],
                conversationID: nil)
            do {
                try await backend.runTurn(request) { event in collected.withLock { $0.append(event) } }
                return (collected.withLock { $0 }, nil)
            } catch let failure as BackendFailure {
                return (collected.withLock { $0 }, failure)
            }
        }
    }

    @Test("a stream becomes chunks and usage; role-only chunks and [DONE] are absorbed; the request is well formed")
    func normal() async throws {
        let upstream = MockOpenAIUpstream()
        let (events, failure) = try await Self.run("hello", apiKey: "sk-test", upstream: upstream)
        #expect(failure == nil)
        #expect(Self.text(of: events) == "Hello from the mock.")
        #expect(events.last == .usage(tokensIn: 11, tokensOut: 7))
        #expect(events.dropLast().allSatisfy { if case .chunk = $0 { true } else { false } })
        let sent = try #require(upstream.requests.first)
        #expect(sent.model == "smollm2")
        #expect(sent.stream == true)
        #expect(sent.messages.map(\.role) == ["system", "user"])
        #expect(upstream.authorizations == ["Bearer sk-test"])
    }

    /// The answer's text, from its chunks (content that arrives together comes as one chunk).
    static func text(of events: [BackendEvent]) -> String {
        events.reduce(into: "") { text, event in
            if case .chunk(let piece) = event { text += piece }
        }
    }

    @Test("a burst of chunks that arrives together is passed on as a few chunks, with the exact text")
    func burst() async throws {
        let (events, failure) = try await Self.run("mock:chunks=3000 burst")
        #expect(failure == nil)
        #expect(Self.text(of: events) == MockOpenAIUpstream.chunkedAnswer(3000))
        let chunks = events.filter { if case .chunk = $0 { true } else { false } }
        #expect(chunks.count < 300, "3,000 tokens that arrived in a few reads make a few chunks, not 3,000")
        #expect(chunks.first == .chunk("t1 "), "the first token goes on alone, before the rest of its read is decoded")
        #expect(events.last == .usage(tokensIn: 11, tokensOut: 7))
    }

    @Test("no key, no Authorization header")
    func noKey() async throws {
        let upstream = MockOpenAIUpstream()
        _ = try await Self.run("hello", upstream: upstream)
        #expect(upstream.authorizations == [nil])
    }

    @Test(
        "tokens that arrive one HTTP chunk each while the first is handled go on together: a few events, the same text",
        .timeLimit(.minutes(1)))
    func chunksThatWaited() async throws {
        let upstream = MockOpenAIUpstream()
        let events = try await upstream.run { mockURL in
            let backend = OpenAICompatibleBackend(baseURL: mockURL, model: "smollm2", apiKey: nil, httpClient: Self.client)
            let collected = Mutex<[BackendEvent]>([])
            let request = BackendTurnRequest(
                turnID: TurnID(), userID: "u", sessionID: "s", messages: [ConversationMessage(role: .user, content: "mock:chunks=500 together tag=held")],
                conversationID: nil)
            try await backend.runTurn(request) { event in
                let first = collected.withLock { collected in
                    collected.append(event)
                    return collected.count == 1
                }
                // Hold the first token until the server has written every token, one HTTP chunk each.
                guard first else { return }
                await upstream.waitForLastContent(tag: "held")
            }
            return collected.withLock { $0 }
        }
        #expect(upstream.lastContentWritten(tag: "held") != nil)
        #expect(Self.text(of: events) == MockOpenAIUpstream.chunkedAnswer(500))
        let chunks = events.filter { if case .chunk = $0 { true } else { false } }
        #expect(events.first == .chunk("t1 "), "the first token goes on alone, at once")
        // Each read of the connection brings hundreds of HTTP chunks here; how they fall into
        // reads is up to the network, so the bound leaves room: ten times fewer events at least.
        #expect(chunks.count < 50, "499 tokens that waited while the first was handled make a few events, not \(chunks.count)")
    }

    @Test("comment keep-alives become heartbeats (keep-alives that arrive together count once)")
    func heartbeats() async throws {
        let (events, failure) = try await Self.run("mock:pings=3 delay=30ms")
        #expect(failure == nil)
        // Three keep-alives 30 ms apart: three heartbeats, or fewer when some arrived while the
        // previous read was still being handled (a busy machine); never none, never text.
        let heartbeats = events.filter { $0 == .heartbeat }.count
        #expect((1...3).contains(heartbeats))
        #expect(events.last(where: { $0 != .heartbeat && $0 != .usage(tokensIn: 11, tokensOut: 7) }) == .chunk("pong"))
        #expect(Self.text(of: events) == "pong")
    }

    @Test("HTTP errors: 429 and 5xx retryable, other 4xx not, with the server's message")
    func httpErrors() async throws {
        for (status, retryable) in [(429, true), (503, true), (401, false), (404, false)] {
            let (_, failure) = try await Self.run("mock:status=\(status)")
            let error = try #require(failure)
            #expect(error.code == TurnErrorCode.upstreamError)
            #expect(error.retryable == retryable, "\(status)")
            #expect(error.message.contains("\(status)"))
            #expect(error.message.contains("mock failure \(status)"))
        }
    }

    @Test("a chunk that is not JSON, and a stream cut before the end, are upstream errors; text before them was reported")
    func brokenStreams() async throws {
        let garbage = try await Self.run("mock:garbage")
        #expect(garbage.failure?.code == TurnErrorCode.upstreamError)
        #expect(garbage.failure?.message.contains("not valid JSON") == true)
        let cut = try await Self.run("mock:cut=2")
        #expect(Self.text(of: cut.events) == "t1 t2 ")
        #expect(cut.failure?.code == TurnErrorCode.upstreamError)
        #expect(cut.failure?.retryable == true)
    }

    @Test("a refused connection is a retryable backend_unavailable")
    func refused() async throws {
        let (_, failure) = try await Self.run("hello", baseURL: "http://127.0.0.1:1/v1")
        #expect(failure?.code == TurnErrorCode.backendUnavailable)
        #expect(failure?.retryable == true)
    }
}
