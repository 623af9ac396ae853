import Foundation
import PaliadinCore
import Synchronization
import Testing

@testable import PaliadinBackends

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fake agents (scripts in `FakeAgents/`) run by the real backend: streaming, failures, and
/// what is left of the process group after a cancel.
@Suite("CLI agent backend with fake agents")
struct CLIAgentBackendTests {
    static let agents = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FakeAgents")
    static let fast = CLIAgentBackend.Limits(exitGrace: .seconds(2), killGrace: .milliseconds(300), heartbeatInterval: .zero)

    static func agent(_ name: String) -> String {
        agents.appendingPathComponent(name).path
    }

    static func claude(
        _ scenario: String, environment: [String: String] = [:], limits: CLIAgentBackend.Limits = fast, ssh: CLIAgentCommand.SSH? = nil
    ) -> CLIAgentBackend {
        let command = CLIAgentCommand(
            executable: agent("fake-claude.py"), arguments: [scenario], format: .claudeStreamJSON, environment: environment, ssh: ssh)
        return CLIAgentBackend(command: command, limits: limits)
    }

    static func request(
        _ message: String = "hello", history: [(String, String)] = [], conversationID: String? = nil
    ) -> BackendTurnRequest {
        var messages = [ConversationMessage(role: .system, content: "sys")]
        for (question, answer) in history {
            messages += [ConversationMessage(role: .user, content: question), ConversationMessage(role: .assistant, content: answer)]
        }
        messages.append(ConversationMessage(role: .user, content: message))
        return BackendTurnRequest(turnID: TurnID(), userID: "u", sessionID: "s", messages: messages, conversationID: conversationID)
    }

    /// Runs one turn and collects what the backend reported.
    static func run(
        _ backend: CLIAgentBackend, _ request: BackendTurnRequest = request()
    ) async throws -> (events: [BackendEvent], failure: BackendFailure?) {
        let collected = Mutex<[BackendEvent]>([])
        do {
            try await backend.runTurn(request) { event in collected.withLock { $0.append(event) } }
            return (collected.withLock { $0 }, nil)
        } catch let failure as BackendFailure {
            return (collected.withLock { $0 }, failure)
        }
    }

    static func text(of events: [BackendEvent]) -> String {
        events.reduce(into: "") { text, event in
            if case .chunk(let piece) = event { text += piece }
        }
    }

    static func chunks(of events: [BackendEvent]) -> Int {
        events.filter { if case .chunk = $0 { true } else { false } }.count
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-cli-\(UUID().uuidString)-\(name)").path
    }

    /// What a fake agent recorded: its arguments, standard input, folder and environment.
    struct Record: Decodable {
        var argv: [String]
        var stdin: String
        var cwd: String
        var env: [String: String]
    }

    static func record(at path: String) throws -> Record {
        try JSONDecoder().decode(Record.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    // MARK: - claude-stream-json

    @Test("stream-json: text, usage and the conversation id; the prompt goes on standard input")
    func streamJSONNormal() async throws {
        let (events, failure) = try await Self.run(Self.claude("normal"))
        #expect(failure == nil)
        #expect(events.first == .conversation("sess-new"))
        #expect(Self.text(of: events) == "Hello from the fake.")
        #expect(events.last == .usage(tokensIn: 111, tokensOut: 7))
    }

    @Test("stream-json: tool use becomes used tools, all names so far, each once")
    func toolUse() async throws {
        let (events, failure) = try await Self.run(Self.claude("tools"))
        #expect(failure == nil)
        let metas = events.compactMap { if case .meta(let meta) = $0 { meta.usedTools } else { nil } }
        #expect(metas == [["Read"], ["Read", "Bash"]])
        #expect(Self.text(of: events) == "Let me look.\n\nDone.")
        #expect(events.contains(.heartbeat), "tool results are activity")
    }

    @Test("stream-json: partial deltas stream the text and the finished message does not repeat it")
    func partialDeltas() async throws {
        let (events, failure) = try await Self.run(Self.claude("partial"))
        #expect(failure == nil)
        #expect(Self.text(of: events) == "Hello thére\n\nAll done.")
        #expect(Self.chunks(of: events) >= 2)
        let metas = events.compactMap { if case .meta(let meta) = $0 { meta.usedTools } else { nil } }
        #expect(metas == [["Grep"]], "a tool is counted when its block starts, and not again")
    }

    @Test("stream-json: deltas that stop halfway are completed by the finished message")
    func partialDeltasCut() async throws {
        let (events, failure) = try await Self.run(Self.claude("partial-cut"))
        #expect(failure == nil)
        #expect(Self.text(of: events) == "Hello there")
    }

    @Test("stream-json: an error result fails the turn with its message; a turn limit is not retryable, an API error is")
    func errorResult() async throws {
        let maxTurns = try await Self.run(Self.claude("max-turns"))
        let failure = try #require(maxTurns.failure)
        #expect(failure.code == TurnErrorCode.upstreamError)
        #expect(failure.message.contains("error_max_turns"))
        #expect(failure.message.contains("Reached maximum number of turns (3)"))
        #expect(failure.retryable == false)
        #expect(Self.text(of: maxTurns.events) == "Working on it", "text before the error was reported")

        let apiError = try #require(try await Self.run(Self.claude("api-error")).failure)
        #expect(apiError.message.contains("API Error: 529 overloaded"))
        #expect(apiError.retryable)
    }

    @Test("stream-json: lines that are not JSON objects, blank lines and unknown types are skipped")
    func garbageLines() async throws {
        let (events, failure) = try await Self.run(Self.claude("garbage"))
        #expect(failure == nil)
        #expect(Self.text(of: events) == "Still fine.")
    }

    @Test("stream-json: exit 0 without a result line is an incomplete answer")
    func noResult() async throws {
        let (events, failure) = try await Self.run(Self.claude("no-result"))
        #expect(Self.text(of: events) == "partial answer")
        #expect(failure?.code == TurnErrorCode.upstreamError)
        #expect(failure?.message.contains("ended before the answer was complete") == true)
    }

    @Test("stream-json: a rejected rate limit fails at once (retryable); a warning is only activity")
    func rateLimits() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let rejected = try #require(try await Self.run(Self.claude("rate-limited")).failure)
        // Half the agent's 30 s proves it was stopped, with room for a loaded machine.
        #expect(clock.now - start < .seconds(15), "the agent sleeps 30 s after the rejection; it is stopped")
        #expect(rejected.code == TurnErrorCode.upstreamError)
        #expect(rejected.retryable)
        #expect(rejected.message.contains("five_hour"))

        let (events, failure) = try await Self.run(Self.claude("rate-allowed"))
        #expect(failure == nil)
        #expect(Self.text(of: events) == "Fine.")
        #expect(events.contains(.heartbeat))
    }

    @Test("stream-json: a line longer than the bound fails the turn")
    func longLine() async throws {
        let limits = CLIAgentBackend.Limits(maxLineLength: 64 * 1024, exitGrace: .seconds(2), killGrace: .milliseconds(300))
        let failure = try #require(try await Self.run(Self.claude("long-line", limits: limits)).failure)
        #expect(failure.message.contains("longer than 65536 bytes"))
    }

    @Test("stream-json: an agent that answers but does not exit is stopped after the exit grace; the answer stands")
    func lingering() async throws {
        let limits = CLIAgentBackend.Limits(exitGrace: .milliseconds(300), killGrace: .milliseconds(300))
        let clock = ContinuousClock()
        let start = clock.now
        let (events, failure) = try await Self.run(Self.claude("linger", limits: limits))
        #expect(failure == nil)
        #expect(Self.text(of: events) == "Answered.")
        // The agent would linger 30 s: half that proves the grace ended it, with room for a loaded machine.
        #expect(clock.now - start < .seconds(15))
    }

    @Test("resume: the stored conversation id goes back as --resume <id> and the prompt is the new message alone")
    func resume() async throws {
        let path = Self.temporaryPath("record.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let backend = Self.claude("echo", environment: ["FAKE_RECORD": path])
        #expect(backend.keepsConversation)
        _ = try await Self.run(backend, Self.request("next", history: [("q1", "a1")], conversationID: "sess-1"))
        let resumed = try Self.record(at: path)
        #expect(resumed.argv == ["echo", "--resume", "sess-1"])
        #expect(resumed.stdin == "sys\n\nnext")

        _ = try await Self.run(backend, Self.request("next", history: [("q1", "a1")], conversationID: nil))
        let fresh = try Self.record(at: path)
        #expect(fresh.argv == ["echo"])
        #expect(fresh.stdin == "sys\n\nUser: q1\n\nAssistant: a1\n\nUser: next", "without a conversation the agent gets the transcript")

        _ = try await Self.run(backend, Self.request("next", conversationID: "--dangerously-skip-permissions"))
        #expect(try Self.record(at: path).argv == ["echo"], "an id that is not a plain token is not passed on")
    }

    @Test("environment and folder: extra variables set, removed ones (with a prefix pattern) gone, the folder used")
    func environmentAndFolder() async throws {
        setenv("PALIADIN_CLI_TEST_SECRET", "s3cret", 1)
        let path = Self.temporaryPath("record.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let folder = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path
        let command = CLIAgentCommand(
            executable: Self.agent("fake-claude.py"), arguments: ["echo"], format: .claudeStreamJSON, workingDirectory: folder,
            environment: ["FAKE_RECORD": path, "EXTRA_VAR": "a b"], removedEnvironment: ["PALIADIN_CLI_TEST_*"])
        let (_, failure) = try await Self.run(CLIAgentBackend(command: command, limits: Self.fast))
        #expect(failure == nil)
        let seen = try Self.record(at: path)
        #expect(seen.env["EXTRA_VAR"] == "a b")
        #expect(seen.env["PALIADIN_CLI_TEST_SECRET"] == nil)
        #expect(seen.env["PATH"] != nil, "the rest of the environment is inherited")
        #expect(seen.cwd == folder)
    }

    // MARK: - Failures to run

    @Test("exit 1 with a chatty standard error: upstream_error carrying the bounded tail; an unread prompt does not hurt")
    func exitWithStderr() async throws {
        let backend = CLIAgentBackend(command: CLIAgentCommand(executable: Self.agent("fake-failing.sh")), limits: Self.fast)
        let bigPrompt = String(repeating: "x", count: 300_000)
        let failure = try #require(try await Self.run(backend, Self.request(bigPrompt)).failure)
        #expect(failure.code == TurnErrorCode.upstreamError)
        #expect(failure.message.contains("status 3"))
        #expect(failure.message.hasSuffix("fatal: boom"))
        #expect(!failure.message.contains("noise line 0 "))
        #expect(failure.message.utf8.count < 2048 + 100)
    }

    @Test("a missing executable is a retryable backend_unavailable, by path or by name")
    func missingExecutable() async throws {
        for executable in ["/nonexistent/paliadin-agent", "paliadin-no-such-agent"] {
            let backend = CLIAgentBackend(command: CLIAgentCommand(executable: executable), limits: Self.fast)
            let failure = try #require(try await Self.run(backend).failure, "\(executable)")
            #expect(failure.code == TurnErrorCode.backendUnavailable)
            #expect(failure.retryable)
        }
    }

    // MARK: - text

    @Test("text: standard output streams as it comes, each piece before the next is written, a cut UTF-8 character kept whole")
    func textStreams() async throws {
        let record = Self.temporaryPath("stdin.txt")
        let go = Self.temporaryPath("go")
        defer {
            for path in [record, go + ".1", go + ".2", go + ".3"] { try? FileManager.default.removeItem(atPath: path) }
        }
        let command = CLIAgentCommand(
            executable: Self.agent("fake-text.sh"), format: .text, environment: ["FAKE_RECORD": record, "FAKE_GO": go])
        let backend = CLIAgentBackend(command: command, limits: Self.fast)
        #expect(!backend.keepsConversation)
        #expect(backend.mode == .streaming)
        let collected = Mutex<[BackendEvent]>([])
        // The agent writes its next piece only once the test has received the one before.
        try await backend.runTurn(Self.request("q2", history: [("q1", "a1")])) { event in
            let count = collected.withLock { events in
                events.append(event)
                return events.count
            }
            FileManager.default.createFile(atPath: "\(go).\(count)", contents: nil)
        }
        #expect(collected.withLock { $0 } == [.chunk("one "), .chunk("two "), .chunk("é three\n")])
        #expect(try String(contentsOfFile: record, encoding: .utf8) == "sys\n\nUser: q1\n\nAssistant: a1\n\nUser: q2")
    }

    // MARK: - Cancellation

    /// Starts a turn, waits for its first chunk, cancels it, and returns the pids the agent wrote.
    static func cancelAfterFirstChunk(_ backend: CLIAgentBackend, pidFile: String) async throws -> (pids: [pid_t], took: Duration) {
        let (started, signal) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            defer { signal.finish() }
            try await backend.runTurn(request()) { event in
                if case .chunk = event { signal.yield() }
            }
        }
        for await _ in started { break }
        let pids = try String(contentsOfFile: pidFile, encoding: .utf8).split(separator: " ").compactMap {
            pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(pids.count == 2)
        #expect(pids.allSatisfy { !isGone($0) }, "the agent and its child run")
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        let result = await task.result
        let took = clock.now - start
        #expect(throws: CancellationError.self) { try result.get() }
        return (pids, took)
    }

    @Test("a hanging agent: cancelling the task stops its process group; the agent is reaped, its child gone")
    func hangCancelled() async throws {
        let pidFile = Self.temporaryPath("pids")
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let (pids, took) = try await Self.cancelAfterFirstChunk(Self.claude("hang", environment: ["FAKE_PIDS": pidFile]), pidFile: pidFile)
        #expect(took < .seconds(5))
        #expect(await Self.waitUntilGone(pids))
        #expect(kill(pids[0], 0) == -1 && errno == ESRCH, "the agent itself was reaped, not left a zombie")
    }

    @Test("an agent and its child that ignore SIGTERM are killed after the grace")
    func grandchildKilled() async throws {
        let pidFile = Self.temporaryPath("pids")
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let command = CLIAgentCommand(executable: Self.agent("fake-stubborn.sh"), format: .text, environment: ["FAKE_PIDS": pidFile])
        let (pids, took) = try await Self.cancelAfterFirstChunk(CLIAgentBackend(command: command, limits: Self.fast), pidFile: pidFile)
        #expect(took >= .milliseconds(250), "SIGTERM was ignored; SIGKILL came after the grace")
        #expect(took < .seconds(5))
        #expect(await Self.waitUntilGone(pids))
        #expect(kill(pids[0], 0) == -1 && errno == ESRCH)
    }

    /// True when `pid` is gone, or dead and waiting for its (new) parent to reap it. An
    /// orphan's zombie belongs to init, which on some minimal systems never reaps.
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) == -1 && errno == ESRCH { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state == "Z" || state == "X"
    }

    static func waitUntilGone(_ pids: [pid_t], within limit: Duration = .seconds(3)) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            if pids.allSatisfy(isGone) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return pids.allSatisfy(isGone)
    }
}

/// The SSH wrapping: the command line built, and a stand-in `ssh` (`FakeAgents/fake-ssh.py`)
/// that runs the remote command with a real shell in a session of its own, as `sshd` does.
@Suite("CLI agent over SSH")
struct CLIAgentSSHTests {
    static let fakeSSH = CLIAgentBackendTests.agent("fake-ssh.py")

    @Test("the ssh command line: batch mode, pinned key and host keys, a shared connection, the port, then the quoted remote command")
    func arguments() throws {
        let ssh = CLIAgentCommand.SSH(
            host: "agent.example.com", user: "paliadin", port: 2222, identityFile: "/etc/paliadin/id_ed25519",
            knownHostsFile: "/etc/paliadin/known_hosts", extraOptions: ["-o", "ServerAliveInterval=15"], controlDirectory: "/run/paliadin-ssh")
        let command = CLIAgentCommand(
            executable: "claude", arguments: ["-p", "--output-format", "stream-json"], format: .claudeStreamJSON, workingDirectory: "/srv/my app",
            environment: ["ANTHROPIC_MODEL": "sonnet"], removedEnvironment: ["AWS_*"], ssh: ssh)
        let invocation = try command.invocation(
            prompt: "hi é", systemText: nil, conversationID: "abc-1", parentEnvironment: ["AWS_SECRET": "x", "HOME": "/root"])
        #expect(invocation.executable == "ssh")
        #expect(
            Array(invocation.arguments.dropLast()) == [
                "-T", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", "/etc/paliadin/id_ed25519",
                "-o", "UserKnownHostsFile=/etc/paliadin/known_hosts", "-o", "StrictHostKeyChecking=yes",
                "-o", "ControlMaster=auto", "-o", "ControlPath=/run/paliadin-ssh/%C", "-o", "ControlPersist=60",
                "-p", "2222", "-o", "ServerAliveInterval=15", "paliadin@agent.example.com", "--",
            ])
        let remote = try #require(invocation.arguments.last)
        #expect(remote.hasPrefix("exec /bin/sh -c 'd=$1; shift; "))
        #expect(remote.hasSuffix("' paliadin-agent '/srv/my app' claude -p --output-format stream-json --resume abc-1"))
        #expect(!remote.contains("sonnet"), "the environment travels on standard input, not on the command line")
        #expect(invocation.environment == ["AWS_SECRET": String?.none], "removed variables are removed from the local ssh")
        #expect(invocation.workingDirectory == nil)
        #expect(invocation.keepsStandardInputOpen)
        #expect(invocation.standardInput == Array("1\nANTHROPIC_MODEL=sonnet\n5\nhi é".utf8))
    }

    @Test("without a key, known hosts file or sharing, those options are left out; host keys are still checked")
    func minimalArguments() throws {
        let command = CLIAgentCommand(executable: "agent", ssh: CLIAgentCommand.SSH(host: "10.0.0.7", controlPersist: nil))
        let invocation = try command.invocation(prompt: "", systemText: nil, conversationID: nil, parentEnvironment: [:])
        #expect(
            Array(invocation.arguments.dropLast()) == ["-T", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "10.0.0.7", "--"])
        #expect(invocation.arguments.last?.hasSuffix("paliadin-agent '' agent") == true)
    }

    @Test("hosts, users, paths and variables that ssh or the shell would misread are refused")
    func refused() {
        let bad: [CLIAgentCommand] = [
            CLIAgentCommand(executable: "a", ssh: CLIAgentCommand.SSH(host: "-oProxyCommand=touch /tmp/x")),
            CLIAgentCommand(executable: "a", ssh: CLIAgentCommand.SSH(host: "h", user: "a b")),
            CLIAgentCommand(executable: "a", ssh: CLIAgentCommand.SSH(host: "h;id")),
            CLIAgentCommand(executable: "a", ssh: CLIAgentCommand.SSH(host: "h", port: 0)),
            CLIAgentCommand(executable: "a", ssh: CLIAgentCommand.SSH(host: "h", identityFile: "/keys/my key")),
            CLIAgentCommand(executable: "a", ssh: CLIAgentCommand.SSH(host: "h", knownHostsFile: "/k/%h")),
            CLIAgentCommand(executable: "a", environment: ["X": "two\nlines"], ssh: CLIAgentCommand.SSH(host: "h")),
            CLIAgentCommand(executable: "a", environment: ["1X": "v"]),
            CLIAgentCommand(executable: ""),
        ]
        for command in bad {
            #expect(throws: CLIAgentCommand.ConfigurationError.self, "\(command)") { try command.validate() }
        }
    }

    @Test("quoting: plain words stay bare, anything else is single-quoted with ' as '\\''")
    func quoting() {
        #expect(CLIAgentCommand.SSH.quote("--output-format") == "--output-format")
        #expect(CLIAgentCommand.SSH.quote("/usr/bin/claude") == "/usr/bin/claude")
        #expect(CLIAgentCommand.SSH.quote("") == "''")
        #expect(CLIAgentCommand.SSH.quote("a b") == "'a b'")
        #expect(CLIAgentCommand.SSH.quote("it's") == #"'it'\''s'"#)
        #expect(CLIAgentCommand.SSH.quote("$(id)") == "'$(id)'")
        #expect(CLIAgentCommand.SSH.quote("~/x") == "'~/x'")
        #expect(CLIAgentCommand.SSH.quote("=cmd") == "'=cmd'")
    }

    @Test("through a stand-in ssh and a real shell, every argument arrives exactly as written")
    func injectionSafe() async throws {
        let words = ["it's", "$(echo pwned)", "`echo pwned`", "a  b", "*", #"\n"#, #""q""#, "; echo pwned", "", "-n", "é ☃"]
        let command = CLIAgentCommand(
            executable: "printf", arguments: [#"[%s]\n"#] + words, format: .text,
            ssh: CLIAgentCommand.SSH(host: "localhost", controlPersist: nil, executable: Self.fakeSSH))
        let (events, failure) = try await CLIAgentBackendTests.run(CLIAgentBackend(command: command, limits: CLIAgentBackendTests.fast))
        #expect(failure == nil)
        #expect(CLIAgentBackendTests.text(of: events) == words.map { "[\($0)]\n" }.joined())
    }

    @Test("through a stand-in ssh: the prompt, the environment, the folder and the resume flag reach the remote agent")
    func remoteTurn() async throws {
        let path = CLIAgentBackendTests.temporaryPath("record.json")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ssh = CLIAgentCommand.SSH(host: "localhost", user: "agent", controlPersist: nil, executable: Self.fakeSSH)
        let command = CLIAgentCommand(
            executable: CLIAgentBackendTests.agent("fake-claude.py"), arguments: ["echo"], format: .claudeStreamJSON, workingDirectory: "/tmp",
            environment: ["FAKE_RECORD": path, "SPACED": " a b $HOME 'q' "], ssh: ssh)
        let message = "line one\nline 'two' é\n"
        let (events, failure) = try await CLIAgentBackendTests.run(
            CLIAgentBackend(command: command, limits: CLIAgentBackendTests.fast),
            CLIAgentBackendTests.request(message, conversationID: "sess-9"))
        #expect(failure == nil)
        #expect(CLIAgentBackendTests.text(of: events) == "prompt was: sys\n\n" + message)
        let seen = try CLIAgentBackendTests.record(at: path)
        #expect(seen.argv == ["echo", "--resume", "sess-9"])
        #expect(seen.stdin == "sys\n\n" + message)
        #expect(seen.env["SPACED"] == " a b $HOME 'q' ")
        #expect(seen.cwd == "/tmp")
    }

    @Test("cancelling the turn reaches the remote agent: the dropped connection stops its whole session")
    func remoteCancel() async throws {
        let pidFile = CLIAgentBackendTests.temporaryPath("pids")
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        let ssh = CLIAgentCommand.SSH(host: "localhost", controlPersist: nil, executable: Self.fakeSSH, remoteKillGrace: 1)
        let command = CLIAgentCommand(
            executable: CLIAgentBackendTests.agent("fake-claude.py"), arguments: ["hang"], format: .claudeStreamJSON,
            environment: ["FAKE_PIDS": pidFile], ssh: ssh)
        let (pids, took) = try await CLIAgentBackendTests.cancelAfterFirstChunk(
            CLIAgentBackend(command: command, limits: CLIAgentBackendTests.fast), pidFile: pidFile)
        #expect(took < .seconds(5))
        #expect(await CLIAgentBackendTests.waitUntilGone(pids, within: .seconds(5)), "the remote agent and its child are gone")
    }
}

/// The stream-json decoder on its own: shapes of output the fake agents do not cover.
@Suite("Claude stream-json decoding")
struct ClaudeStreamJSONTests {
    static func decode(_ lines: [String]) throws -> (events: [BackendEvent], decoder: ClaudeStreamJSON) {
        var decoder = ClaudeStreamJSON()
        var events: [BackendEvent] = []
        for line in lines { events += try decoder.decode(Array(line.utf8)) }
        return (events, decoder)
    }

    @Test("cumulative finished-message lines (one per block, each holding all blocks so far) do not repeat text")
    func cumulativeLines() throws {
        let (events, _) = try Self.decode([
            #"{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"Hi"}]}}"#,
            #"{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"Hi"},{"type":"tool_use","name":"Read"}]}}"#,
            #"{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"Hi"},{"type":"tool_use","name":"Read"},{"type":"text","text":" there"}]}}"#,
        ])
        #expect(CLIAgentBackendTests.text(of: events) == "Hi there")
    }

    @Test("deltas and messages without ids still pass each piece of text on once")
    func withoutIDs() throws {
        let (events, _) = try Self.decode([
            #"{"type":"stream_event","event":{"type":"message_start","message":{}}}"#,
            #"{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"Ab"}}}"#,
            #"{"type":"assistant","message":{"content":[{"type":"text","text":"Abc"}]}}"#,
            #"{"type":"stream_event","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"c"}}}"#,
        ])
        #expect(events.filter { if case .chunk = $0 { true } else { false } } == [.chunk("Ab"), .chunk("c")])
    }

    @Test("a subagent's text is not the answer; its tools count")
    func subagent() throws {
        let (events, decoder) = try Self.decode([
            #"{"type":"assistant","parent_tool_use_id":"tu1","message":{"id":"s1","content":[{"type":"text","text":"inner"},{"type":"tool_use","name":"Grep"}]}}"#,
            #"{"type":"stream_event","parent_tool_use_id":"tu1","event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"inner"}}}"#,
        ])
        #expect(CLIAgentBackendTests.text(of: events) == "")
        #expect(decoder.usedTools == ["Grep"])
    }

    @Test("an answer only in the result line is still the answer; lines after the result are ignored; bad lines are counted")
    func resultOnly() throws {
        let (events, decoder) = try Self.decode([
            "not json",
            #"{"type":"result","subtype":"success","is_error":false,"result":"Only here.","session_id":"s9","usage":{"output_tokens":3}}"#,
            #"{"type":"assistant","message":{"content":[{"type":"text","text":"late"}]}}"#,
        ])
        #expect(events == [.conversation("s9"), .chunk("Only here."), .usage(tokensIn: nil, tokensOut: 3)])
        #expect(decoder.outcome == .answered)
        #expect(decoder.skippedLines == 1)
    }

    @Test("a field of an unexpected type does not hide the line")
    func lenientFields() throws {
        let (events, decoder) = try Self.decode([
            #"{"type":"result","subtype":"success","is_error":false,"result":{"unexpected":true},"total_cost_usd":"n/a","usage":{"input_tokens":"x","output_tokens":4}}"#
        ])
        #expect(decoder.outcome == .answered)
        #expect(events == [.usage(tokensIn: nil, tokensOut: 4)])
    }

    @Test("lines: split across reads, CRLF, and a line too long refused before it is complete")
    func lineSplitter() throws {
        var splitter = ClaudeStreamJSON.LineSplitter(maxLineLength: 8)
        let first = try Array("ab\r\ncd".utf8).withUnsafeBytes { try splitter.feed($0) }
        #expect(first == [Array("ab".utf8)])
        let second = try Array("e\nf".utf8).withUnsafeBytes { try splitter.feed($0) }
        #expect(second == [Array("cde".utf8)])
        #expect(splitter.finish() == Array("f".utf8))
        #expect(throws: ClaudeStreamJSON.LineSplitter.LineTooLong.self) {
            _ = try Array("0123456789abc".utf8).withUnsafeBytes { try splitter.feed($0) }
        }
    }
}

/// Prompts and command lines for the configurations the fake agents do not cover.
@Suite("CLI agent prompts")
struct CLIAgentPromptTests {
    @Test("system text as an option, prompt as the last argument after --")
    func argumentDelivery() throws {
        let command = CLIAgentCommand(
            executable: "agent", arguments: ["-q"], format: .claudeStreamJSON, prompt: .finalArgument(), systemText: .argument("--system"))
        let messages = [ConversationMessage(role: .system, content: "be brief"), ConversationMessage(role: .user, content: "-rf")]
        let (prompt, system) = CLIAgentBackend.prompt(for: messages, command: command, resuming: false)
        #expect(prompt == "-rf")
        let invocation = try command.invocation(prompt: prompt, systemText: system, conversationID: "c1", parentEnvironment: [:])
        #expect(invocation.arguments == ["-q", "--resume", "c1", "--system", "be brief", "--", "-rf"])
        #expect(invocation.standardInput.isEmpty)
        #expect(!invocation.keepsStandardInputOpen)
    }

    @Test("the Claude Code preset streams JSON with partial messages, prompt on standard input")
    func claudePreset() {
        let command = CLIAgentCommand.claudeCode()
        #expect(command.format == .claudeStreamJSON)
        #expect(command.arguments == ["-p", "--output-format", "stream-json", "--verbose", "--include-partial-messages"])
        #expect(command.prompt == .standardInput)
        #expect(CLIAgentBackend(command: command).model == "claude")
    }
}
