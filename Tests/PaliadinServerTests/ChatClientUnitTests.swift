import Foundation
import PaliadinCore
import Testing

@testable import PaliadinClient

/// The terminal client's pieces that need no server: the stream state (dedupe), the retry
/// hint, the resume policy, the thinking indicator, slash commands, settings.
@Suite("paliadin chat: stream state, resume policy, indicator, commands")
struct ChatClientUnitTests {
    private func event(_ id: Int?, _ name: String, _ data: String) -> ServerSentEventParser.Event {
        ServerSentEventParser.Event(name: name, data: data, id: id.map(String.init))
    }

    @Test("events already seen are dropped by id; deltas and one-shot text both print; the last frame ends it")
    func streamState() {
        var state = TurnStreamState()
        #expect(state.handle(event(1, "meta", #"{"turn_id":"x","started_at":"2026-01-01T00:00:00Z"}"#)) == .started)
        #expect(state.handle(event(2, "content", #"{"delta":"Hel","streamed":true}"#)) == .content("Hel"))
        #expect(state.handle(event(nil, "ping", "{}")) == TurnStreamState.Action.none)
        // A replay of what the reader has (a resume point too early) prints nothing again.
        #expect(state.handle(event(2, "content", #"{"delta":"Hel","streamed":true}"#)) == TurnStreamState.Action.none)
        #expect(state.handle(event(1, "meta", "{}")) == TurnStreamState.Action.none)
        #expect(state.duplicates == 2)
        #expect(state.handle(event(3, "content", #"{"text":"lo"}"#)) == .content("lo"))
        #expect(state.lastEventID == 3)
        #expect(state.hasContent)
        #expect(state.handle(event(4, "end", "{}")) == .finished(.completed))
        #expect(state.isFinished)
        #expect(state.handle(event(5, "content", #"{"delta":"late"}"#)) == TurnStreamState.Action.none)
    }

    @Test("error frames: cancelled is its own ending; others keep code, message and retryable")
    func errorFrames() {
        var cancelled = TurnStreamState()
        #expect(cancelled.handle(event(1, "error", #"{"code":"cancelled","message":"stopped"}"#)) == .finished(.cancelled))
        var failed = TurnStreamState()
        #expect(
            failed.handle(event(1, "error", #"{"code":"upstream_silence","message":"silent","retryable":true}"#))
                == .finished(.failed(code: "upstream_silence", message: "silent", retryable: true)))
        var thinking = TurnStreamState()
        #expect(
            thinking.handle(event(1, "thinking", #"{"elapsed_seconds":5,"since_first":false}"#))
                == .thinking(ThinkingPayload(elapsedSeconds: 5, sinceFirst: false)))
    }

    @Test("resume delays: the hint first, doubled per failure, capped; a default without a hint; never zero")
    func resumeDelays() {
        let policy = ResumePolicy(defaultDelay: .seconds(1), maxDelay: .seconds(5), giveUpAfter: .seconds(60))
        #expect(policy.delay(retryHint: .milliseconds(200), consecutiveFailures: 1) == .milliseconds(200))
        #expect(policy.delay(retryHint: .milliseconds(200), consecutiveFailures: 2) == .milliseconds(400))
        #expect(policy.delay(retryHint: .milliseconds(200), consecutiveFailures: 4) == .milliseconds(1600))
        #expect(policy.delay(retryHint: .milliseconds(200), consecutiveFailures: 40) == .seconds(5))
        #expect(policy.delay(retryHint: .seconds(30), consecutiveFailures: 1) == .seconds(5))
        #expect(policy.delay(retryHint: nil, consecutiveFailures: 1) == .seconds(1))
        #expect(policy.delay(retryHint: .zero, consecutiveFailures: 1) == .milliseconds(10))
    }

    @Test("the indicator rewrites one line on a terminal and is quiet elsewhere")
    func indicator() {
        var terminal = ThinkingIndicator(isTerminal: true)
        #expect(terminal.clear() == nil)
        #expect(terminal.show(seconds: nil) == "\r\u{1B}[2Kthinking…")
        #expect(terminal.show(seconds: 5) == "\r\u{1B}[2Kthinking… 5s")
        #expect(terminal.clear() == "\r\u{1B}[2K")
        #expect(terminal.clear() == nil)
        var pipe = ThinkingIndicator(isTerminal: false)
        #expect(pipe.show(seconds: 5) == nil)
        #expect(pipe.clear() == nil)
    }

    @Test("slash commands")
    func slashCommands() {
        #expect(SlashCommand("/new") == .new)
        #expect(SlashCommand("/QUIT") == .quit)
        #expect(SlashCommand("/help") == .help)
        #expect(SlashCommand("/frobnicate now") == .unknown("/frobnicate"))
        #expect(SlashCommand("what is /etc?") == nil)
        #expect(SlashCommand("//new") == nil)
    }

    @Test("settings: flags win over the environment; a server must be an http(s) URL; exit codes")
    func settings() throws {
        let environment = ["PALIADIN_SERVER": "http://paliadin.example:9000/", "PALIADIN_TOKEN": "env-token"]
        let fromEnvironment = try ChatConfiguration.resolve(server: nil, token: nil, backend: "", environment: environment)
        #expect(fromEnvironment.server == "http://paliadin.example:9000")
        #expect(fromEnvironment.token == "env-token")
        #expect(fromEnvironment.backend == nil)
        let fromFlags = try ChatConfiguration.resolve(server: "https://a.example", token: "flag", backend: "claude", environment: environment)
        #expect(fromFlags.server == "https://a.example")
        #expect(fromFlags.token == "flag")
        #expect(fromFlags.backend == "claude")
        let defaults = try ChatConfiguration.resolve(server: nil, token: nil, backend: nil, environment: [:])
        #expect(defaults.server == "http://127.0.0.1:8080")
        #expect(defaults.token == nil)
        #expect(throws: ChatClientError.invalidServer("localhost:8080")) {
            try ChatConfiguration.resolve(server: "localhost:8080", token: nil, backend: nil, environment: [:])
        }
        #expect(TurnEnding.cancelled.exitCode.rawValue == 130)
        #expect(TurnEnding.completed.exitCode.rawValue == 0)
        #expect(TurnEnding.clientError(.unauthorized(server: "x")).exitCode == .notPermitted)
    }

    @Test("a line queue hands lines out in order, keeps a line that came after a cancelled wait, and ends")
    func lineQueue() async throws {
        let lines = LineQueue()
        let waiting = Task { try await lines.nextLine() }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        lines.push("one")
        lines.push("two")
        lines.finish()
        #expect(try await lines.nextLine() == "one")
        #expect(try await lines.nextLine() == "two")
        #expect(try await lines.nextLine() == nil)
    }

    @Test("Ctrl-C before the turn's id is known: the cancel is sent once the turn has started, and only once")
    func cancelBeforeStart() {
        let early = CancelRequest()
        #expect(early.interrupted() == nil)
        #expect(early.turnStarted("t1"), "the starter sends the cancel")
        #expect(early.interrupted() == nil, "not twice")
        #expect(early.turnID == "t1")
        let late = CancelRequest()
        #expect(late.turnID == nil)
        #expect(!late.turnStarted("t2"))
        #expect(late.interrupted() == "t2")
        #expect(late.interrupted() == nil)
    }
}
