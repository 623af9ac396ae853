import Foundation
import PaliadinCore
import Synchronization
import Testing

@testable import PaliadinClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The terminal client's pieces that need no server: the stream state (dedupe), the retry
/// hint, the resume policy, the thinking indicator, slash commands, settings, Ctrl-C and the
/// prompt's input.
@Suite("paliadin chat: stream state, resume policy, indicator, commands, input", .timeLimit(.minutes(1)))
struct ChatClientUnitTests {
    /// The events of `text` as the client's parser reads them (the last id carries over to an
    /// event without one, as the SSE rules say).
    private func events(_ text: String) throws -> [ServerSentEventParser.Event] {
        var parser = ServerSentEventParser()
        return try parser.feed(Array(text.utf8)).compactMap { item in
            if case .event(let event) = item { return event }
            return nil
        }
    }

    private func event(_ id: Int?, _ name: String, _ data: String) -> ServerSentEventParser.Event {
        ServerSentEventParser.Event(name: name, data: data, id: id.map(String.init))
    }

    @Test("events already seen are dropped by id; a ping is no replay; deltas and one-shot text both print; the last frame ends it")
    func streamState() throws {
        var state = TurnStreamState()
        let first = try events(
            """
            retry: 20

            id: 1
            event: meta
            data: {"turn_id":"x","started_at":"2026-01-01T00:00:00Z"}

            id: 2
            event: content
            data: {"delta":"Hel","streamed":true}

            event: ping
            data: {}


            """)
        #expect(first.count == 3)
        #expect(first[2].id == "2", "the parser repeats the last id on a ping")
        #expect(first.map { state.handle($0) } == [.started, .content("Hel"), .none])
        #expect(state.duplicates == 0, "a ping is not a replay")
        // A replay of what the reader has (a resume point too early) prints nothing again.
        state.connectionOpened()
        let replay = try events(
            """
            id: 1
            event: meta
            data: {}

            id: 2
            event: content
            data: {"delta":"Hel","streamed":true}

            id: 3
            event: content
            data: {"text":"lo"}

            id: 4
            event: end
            data: {}

            id: 5
            event: content
            data: {"delta":"late"}


            """)
        #expect(replay.map { state.handle($0) } == [.none, .none, .content("lo"), .finished(.completed), .none])
        #expect(state.duplicates == 2)
        #expect(state.lastEventID == 5)
        #expect(state.hasContent)
        #expect(state.isFinished)
    }

    @Test("the last frame replayed at or below Last-Event-ID still ends a turn that has not ended here; once ended, never twice")
    func lastFrameReplayed() {
        // The server re-sends its last stored event after a crash: here, the `end` the reader never got.
        var replayedEnd = TurnStreamState()
        #expect(replayedEnd.handle(event(1, "meta", "{}")) == .started)
        #expect(replayedEnd.handle(event(2, "content", #"{"delta":"a"}"#)) == .content("a"))
        #expect(replayedEnd.handle(event(2, "content", #"{"delta":"a"}"#)) == TurnStreamState.Action.none)
        #expect(replayedEnd.handle(event(2, "end", "{}")) == .finished(.completed))
        #expect(replayedEnd.handle(event(2, "end", "{}")) == TurnStreamState.Action.none, "not twice")
        // The frame that closes the turn of an instance that died may carry a lower id.
        var interrupted = TurnStreamState()
        for id in 1...5 { _ = interrupted.handle(event(id, "content", #"{"delta":"x"}"#)) }
        #expect(
            interrupted.handle(event(3, "error", #"{"code":"interrupted","message":"the instance stopped"}"#))
                == .finished(.failed(code: "interrupted", message: "the instance stopped", retryable: nil)))
        #expect(interrupted.lastEventID == 5)
        #expect(interrupted.isFinished)
        #expect(interrupted.handle(event(6, "content", #"{"delta":"late"}"#)) == TurnStreamState.Action.none)
    }

    @Test("a connection that brings only replays (or nothing) is told apart from one that brings something new")
    func connectionBroughtNothingNew() {
        var state = TurnStreamState()
        state.connectionOpened()
        #expect(state.connectionBroughtNothingNew, "nothing yet")
        _ = state.handle(event(1, "meta", "{}"))
        _ = state.handle(event(2, "content", #"{"delta":"a"}"#))
        #expect(!state.connectionBroughtNothingNew)
        state.connectionOpened()
        _ = state.handle(event(2, "content", #"{"delta":"a"}"#))
        _ = state.handle(event(2, "ping", "{}"))
        #expect(state.connectionBroughtNothingNew, "a replay and a ping")
        #expect(state.duplicatesOnConnection == 1)
        _ = state.handle(event(3, "content", #"{"delta":"b"}"#))
        #expect(!state.connectionBroughtNothingNew)
        #expect(state.newOnConnection == 1)
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

    @Test("the printer: the indicator is erased before the answer and before a note; nothing after close")
    func printer() {
        let clear = "\r\u{1B}[2K"
        let terminal = CapturedChatOutput(errorIsTerminal: true)
        let printer = AnswerPrinter(output: terminal)
        printer.started()
        printer.thinking(ThinkingPayload(elapsedSeconds: 5, sinceFirst: false))
        printer.content("po")
        printer.thinking(ThinkingPayload(elapsedSeconds: 10, sinceFirst: false))
        printer.note("a note")
        printer.content("ng")
        printer.close()
        printer.content("late")
        printer.note("late note")
        #expect(terminal.standardOutput == "pong\n")
        #expect(terminal.standardError == clear + "thinking…" + clear + "thinking… 5s" + clear + "\na note\n")

        let pipe = CapturedChatOutput(errorIsTerminal: false)
        let quiet = AnswerPrinter(output: pipe)
        quiet.started()
        quiet.thinking(ThinkingPayload(elapsedSeconds: 5, sinceFirst: false))
        quiet.content("pong\n")
        quiet.close()
        #expect(pipe.standardOutput == "pong\n")
        #expect(pipe.standardError.isEmpty)
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
        #expect(defaults.maxStreamLineLength == 64 << 20)
        #expect(throws: ChatClientError.invalidServer("localhost:8080")) {
            try ChatConfiguration.resolve(server: "localhost:8080", token: nil, backend: nil, environment: [:])
        }
        #expect(TurnEnding.cancelled.exitCode.rawValue == 130)
        #expect(TurnEnding.completed.exitCode.rawValue == 0)
        #expect(TurnEnding.clientError(.unauthorized(server: "x")).exitCode == .notPermitted)
        #expect(TurnEnding.clientError(.malformedStream(turnID: "t", detail: "d")).exitCode.rawValue == 76)
    }

    @Test("messages: the 429 says when once; durations as people write them; a short form for notes")
    func messages() {
        let limited = ChatClientError.rateLimited(message: "too many turns: at most 1 a minute; try again in 60 s", retryAfterSeconds: 60)
        #expect(limited.description.components(separatedBy: "try again").count == 2, "\(limited.description)")
        let bare = ChatClientError.rateLimited(message: "slow down", retryAfterSeconds: 90)
        #expect(bare.description.hasSuffix("slow down; try again in 90s"))
        let lost = ChatClientError.streamLost(turnID: "t", gaveUpAfter: .seconds(60), detail: "connection refused")
        #expect(lost.description.contains("could not resume it for 1m (connection refused)"))
        #expect(ChatClientError.unreachable(server: "http://x", detail: "connection refused").shortDescription == "connection refused")
        #expect(TurnFollower.size(64 << 20) == "64 MiB")
        #expect(TurnFollower.size(1 << 20) == "1 MiB")
        #expect(TurnFollower.size(100) == "100 bytes")
    }

    @Test("a row's status: the known ones, and any other kept as text")
    func rowStatus() throws {
        let row = try JSONDecoder().decode(
            TurnSummary.self, from: Data(#"{"turn_id":"t","status":"interrupted","response":"par","error_code":"interrupted"}"#.utf8))
        #expect(row.status == .interrupted)
        #expect(row.ending == .failed(code: "interrupted", message: "the turn ended interrupted", retryable: nil))
        let odd = try JSONDecoder().decode(TurnSummary.self, from: Data(#"{"turn_id":"t","status":"paused"}"#.utf8))
        #expect(odd.status == .other("paused"))
        #expect(odd.status.text == "paused")
        #expect(TurnSummary.Status("running") == .running)
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
        lines.push("after the end")
        #expect(try await lines.nextLine() == "one")
        #expect(try await lines.nextLine() == "two")
        #expect(try await lines.nextLine() == nil)
        #expect(try await lines.nextLine() == nil)
    }

    @Test("a line handed to a reader already cancelled stays for the next call")
    func lineKeptFromCancelledReader() async throws {
        let lines = LineQueue()
        lines.push("kept")
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await lines.nextLine()
        }
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(try await lines.nextLine() == "kept")
    }

    @Test("standard input: lines read only when asked, CR LF and a last line without a break, a line too long skipped")
    func standardInputLines() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        defer { close(readEnd) }
        func send(_ text: String) {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) } == bytes.count)
        }
        let lines = StandardInputLines(fileDescriptor: readEnd, maxLineLength: 16)
        send("first\r\n")
        #expect(try await lines.nextLine() == "first")
        // Nobody asks for a line now: the next one stays in the pipe, unread.
        send("second\n")
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
        #expect(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self) == "second\n")
        send(String(repeating: "x", count: 100) + "\nthird\nlast")
        close(writeEnd)
        await #expect(throws: InputLineTooLong(limit: 16)) { try await lines.nextLine() }
        #expect(try await lines.nextLine() == "third")
        #expect(try await lines.nextLine() == "last")
        #expect(try await lines.nextLine() == nil)
    }

    @Test("Ctrl-C presses: each taken once, one pressed before the wait counts, a press put back is taken again")
    func interrupts() async {
        let interrupts = Interrupts()
        interrupts.send()
        #expect(interrupts.pending == 1)
        #expect(await interrupts.next())
        #expect(interrupts.pending == 0)
        let waiting = Task { await interrupts.next() }
        waiting.cancel()
        #expect(await waiting.value == false)
        interrupts.send()
        #expect(await interrupts.next())
        interrupts.putBack()
        #expect(interrupts.pending == 1)
        #expect(await interrupts.next())
        #expect(interrupts.count == 2)
        #expect(interrupts.pending == 0)
    }

    @Test("the prompt: a line and a Ctrl-C that come together are both kept, the Ctrl-C first")
    func promptKeepsBoth() async {
        let lines = LineQueue()
        let interrupts = Interrupts()
        var prompt = PromptReader(lines: lines, interrupts: interrupts)
        lines.push("typed")
        interrupts.send()
        #expect(await prompt.next() == .interrupt)
        #expect(await prompt.next() == .line("typed"))
        #expect(interrupts.pending == 0)
        lines.push("alone")
        #expect(await prompt.next() == .line("alone"))
        interrupts.send()
        #expect(await prompt.next() == .interrupt)
        lines.finish()
        #expect(await prompt.next() == .endOfInput)
    }

    @Test("Ctrl-C before the turn's id is known: the cancel is sent once the turn has started, and only once; leaving before it cancels it")
    func cancelBeforeStart() {
        let early = CancelRequest()
        #expect(early.interrupted() == nil)
        #expect(early.turnStarted("t1") == .followAndCancel, "the starter sends the cancel")
        #expect(early.interrupted() == nil, "not twice")
        #expect(early.turnID == "t1")
        let late = CancelRequest()
        #expect(late.turnID == nil)
        #expect(late.turnStarted("t2") == .follow)
        #expect(late.interrupted() == "t2")
        #expect(late.interrupted() == nil)
        #expect(!late.leave(), "the turn is known")
        let left = CancelRequest()
        #expect(left.interrupted() == nil)
        #expect(left.leave(), "the turn may still start")
        #expect(left.turnStarted("t3") == .cancelLeftTurn)
    }

    @Test("racing Ctrl-C: each press goes to its own task, and the last one needed leaves at once even while that task hangs")
    func racingLeavesWhileCancelHangs() async throws {
        let interrupts = Interrupts()
        let output = CapturedChatOutput()
        let pressed = Mutex<[Int]>([])
        // The first press comes before the race: it counts all the same.
        interrupts.send()
        let raced = try await ChatClient.withClient(configuration: ChatConfiguration(), output: output, interrupts: interrupts) { chat in
            await chat.racingInterrupts(leaveAt: 2) {
                // An operation that never ends on its own.
                await Eventual<Int>().value() ?? -1
            } onPress: { number in
                pressed.withLock { $0.append(number) }
                interrupts.send()
                // A cancel request that hangs.
                _ = await Eventual<Int>().value()
            }
        }
        guard case .interrupted = raced else {
            Issue.record("finished: \(raced)")
            return
        }
        #expect(pressed.withLock { $0 } == [1])
        #expect(interrupts.pending == 0)
        #expect(output.standardError.isEmpty)
    }

    @Test("background work gets its grace, and is cancelled after it")
    func backgroundGrace() async {
        let jobs = BackgroundJobs()
        let ended = Mutex(false)
        jobs.run {
            try? await Task.sleep(for: .seconds(3600))
            ended.withLock { $0 = true }
        }
        let clock = ContinuousClock()
        let start = clock.now
        await jobs.finish(within: .milliseconds(50))
        #expect(clock.now - start < .seconds(10))
        #expect(ended.withLock { $0 }, "cancelled, and awaited")
    }
}
