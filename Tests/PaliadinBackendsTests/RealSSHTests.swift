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

/// The CLI backend through the real OpenSSH client and a real `sshd` on 127.0.0.1, which
/// `scripts/sshd-test.sh` starts with a generated host key and client key and describes in
/// `PALIADIN_TEST_SSH_*`. Without those variables (a plain `swift test`) the suite is skipped.
///
/// The "remote" host is this machine, so the fake agents are named by absolute path and the
/// processes they start can be looked up here.
/// The sshd to use, from the environment (nil without it).
struct RealSSHServer: Sendable {
    var host: String
    var port: Int
    var user: String
    var key: String
    var knownHosts: String

    static let configured: RealSSHServer? = {
        let environment = ProcessInfo.processInfo.environment
        guard let host = environment["PALIADIN_TEST_SSH_HOST"], let port = environment["PALIADIN_TEST_SSH_PORT"].flatMap(Int.init),
            let user = environment["PALIADIN_TEST_SSH_USER"], let key = environment["PALIADIN_TEST_SSH_KEY"],
            let knownHosts = environment["PALIADIN_TEST_SSH_KNOWN_HOSTS"]
        else { return nil }
        return RealSSHServer(host: host, port: port, user: user, key: key, knownHosts: knownHosts)
    }()
}

@Suite(
    "CLI agent over a real sshd", .enabled(if: RealSSHServer.configured != nil, "needs the sshd that scripts/sshd-test.sh starts"),
    .serialized)
struct RealSSHTests {
    typealias Server = RealSSHServer

    static func serverOrFail() throws -> Server {
        try #require(Server.configured, "PALIADIN_TEST_SSH_* are not set")
    }

    /// A folder for one test's shared connection; short, as a socket path must be (about 100
    /// bytes, and `ssh` adds a 40-character hash and a temporary suffix). The backend creates it.
    static func controlDirectory() -> String {
        "/tmp/plssh-" + UUID().uuidString.prefix(8).lowercased()
    }

    static func ssh(
        _ server: Server, controlDirectory: String?, knownHosts: String? = nil, remoteKillGrace: Int = 1
    ) -> CLIAgentCommand.SSH {
        CLIAgentCommand.SSH(
            host: server.host, user: server.user, port: server.port, identityFile: server.key, knownHostsFile: knownHosts ?? server.knownHosts,
            extraOptions: ["-o", "ConnectTimeout=10"], controlDirectory: controlDirectory, controlPersist: controlDirectory == nil ? nil : 30,
            remoteKillGrace: remoteKillGrace)
    }

    /// Runs `ssh -O <operation>` on the shared connection of `controlDirectory`; returns the
    /// exit status and what it wrote.
    @discardableResult
    static func control(_ operation: String, _ server: Server, controlDirectory: String) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "ssh", "-o", "ControlPath=\(controlDirectory)/%C", "-p", String(server.port), "-O", operation, "\(server.user)@\(server.host)",
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (-1, "\(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The pid of the master of the shared connection (`ssh -O check`), or nil when none runs.
    static func masterPID(_ server: Server, controlDirectory: String) -> pid_t? {
        let (status, output) = control("check", server, controlDirectory: controlDirectory)
        guard status == 0, let range = output.range(of: #"pid=(\d+)"#, options: .regularExpression) else { return nil }
        return pid_t(output[range].dropFirst(4))
    }

    /// Ends the shared connection and removes its folder.
    static func closeMaster(_ server: Server, controlDirectory: String) {
        if FileManager.default.fileExists(atPath: controlDirectory) {
            control("exit", server, controlDirectory: controlDirectory)
            try? FileManager.default.removeItem(atPath: controlDirectory)
        }
    }

    /// The sockets in `folder`.
    static func sockets(in folder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { name in
            var info = stat()
            return lstat(folder + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
        }
    }

    static func agent(_ name: String) -> String { CLIAgentBackendTests.agent(name) }
    static let limits = CLIAgentBackendTests.fast

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.3f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    // MARK: - Turns

    @Test("stream-json over ssh: text, conversation id and usage come back; the second turn reuses the shared connection")
    func streamJSONAndSharedConnection() async throws {
        let server = try Self.serverOrFail()
        let folder = Self.controlDirectory()
        let record = CLIAgentBackendTests.temporaryPath("record.json")
        defer {
            Self.closeMaster(server, controlDirectory: folder)
            try? FileManager.default.removeItem(atPath: record)
        }
        let command = CLIAgentCommand(
            executable: Self.agent("fake-claude.py"), arguments: ["echo"], format: .claudeStreamJSON,
            environment: ["FAKE_RECORD": record, "SPACED": " a b $HOME 'q' "], ssh: Self.ssh(server, controlDirectory: folder))
        let backend = CLIAgentBackend(command: command, limits: Self.limits)
        let clock = ContinuousClock()

        var start = clock.now
        let first = try await CLIAgentBackendTests.run(backend, CLIAgentBackendTests.request("hello 'there' é"))
        let firstTook = clock.now - start
        #expect(first.failure == nil, "\(String(describing: first.failure))")
        #expect(first.events.first == .conversation("sess-new"))
        #expect(CLIAgentBackendTests.text(of: first.events) == "prompt was: sys\n\nhello 'there' é")
        #expect(first.events.last == .usage(tokensIn: 111, tokensOut: 7))
        let seenFirst = try CLIAgentBackendTests.record(at: record)
        #expect(seenFirst.argv == ["echo"])
        #expect(seenFirst.env["SPACED"] == " a b $HOME 'q' ", "the environment came over the connection's standard input")
        let connection = try #require(seenFirst.env["SSH_CONNECTION"], "the agent ran in an sshd session")
        #expect(seenFirst.env["USER"] == server.user || seenFirst.env["LOGNAME"] == server.user)

        #expect(Self.sockets(in: folder).count == 1, "the shared connection's socket is in the control folder")
        let master = Self.masterPID(server, controlDirectory: folder)
        #expect(master != nil, "a master runs in the background")

        // Two more turns on the shared connection, resuming the conversation.
        var sharedTook: [Duration] = []
        for message in ["next", "again"] {
            start = clock.now
            let later = try await CLIAgentBackendTests.run(backend, CLIAgentBackendTests.request(message, conversationID: "sess-new"))
            sharedTook.append(clock.now - start)
            #expect(later.failure == nil, "\(String(describing: later.failure))")
            #expect(CLIAgentBackendTests.text(of: later.events) == "prompt was: sys\n\n\(message)")
            let seen = try CLIAgentBackendTests.record(at: record)
            #expect(seen.argv == ["echo", "--resume", "sess-new"])
            #expect(seen.env["SSH_CONNECTION"] == connection, "the same TCP connection (same client port) carried the turn")
            #expect(Self.masterPID(server, controlDirectory: folder) == master, "still the same master")
            #expect(Self.sockets(in: folder).count == 1)
        }

        // For comparison: a turn that opens its own connection.
        start = clock.now
        let alone = try await CLIAgentBackendTests.run(
            CLIAgentBackend(
                command: CLIAgentCommand(
                    executable: Self.agent("fake-claude.py"), arguments: ["normal"], format: .claudeStreamJSON,
                    ssh: Self.ssh(server, controlDirectory: nil)), limits: Self.limits))
        let aloneTook = clock.now - start
        #expect(alone.failure == nil, "\(String(describing: alone.failure))")
        #expect(CLIAgentBackendTests.text(of: alone.events) == "Hello from the fake.")
        print(
            "[real-ssh] first turn (connects, starts the master): \(Self.seconds(firstTook)); turns on the shared connection: "
                + "\(sharedTook.map(Self.seconds).joined(separator: ", ")); a turn without sharing: \(Self.seconds(aloneTook))")
        // Timings on a loaded machine vary; the faster of the two shared turns still skips the
        // key exchange and the authentication the first one paid for.
        #expect(sharedTook.min()! < firstTook, "a turn on the shared connection is faster than the one that connected")
    }

    @Test("text over ssh: standard output streams, each piece passed on before the next is written")
    func textStreams() async throws {
        let server = try Self.serverOrFail()
        let folder = Self.controlDirectory()
        let record = CLIAgentBackendTests.temporaryPath("stdin.txt")
        let go = CLIAgentBackendTests.temporaryPath("go")
        defer {
            Self.closeMaster(server, controlDirectory: folder)
            for path in [record, go + ".1", go + ".2", go + ".3"] { try? FileManager.default.removeItem(atPath: path) }
        }
        let command = CLIAgentCommand(
            executable: Self.agent("fake-text.sh"), format: .text, environment: ["FAKE_RECORD": record, "FAKE_GO": go],
            ssh: Self.ssh(server, controlDirectory: folder))
        let collected = Mutex<[BackendEvent]>([])
        try await CLIAgentBackend(command: command, limits: Self.limits).runTurn(
            CLIAgentBackendTests.request("q2", history: [("q1", "a1")])
        ) { event in
            let count = collected.withLock { events in
                events.append(event)
                return events.count
            }
            _ = FileManager.default.createFile(atPath: "\(go).\(count)", contents: nil)
        }
        #expect(collected.withLock { $0 } == [.chunk("one "), .chunk("two "), .chunk("é three\n")])
        #expect(try String(contentsOfFile: record, encoding: .utf8) == "sys\n\nUser: q1\n\nAssistant: a1\n\nUser: q2")
    }

    // MARK: - Cancellation

    @Test("cancelling the turn reaches the remote agent and its child; the shared connection survives")
    func cancelReachesRemote() async throws {
        let server = try Self.serverOrFail()
        let folder = Self.controlDirectory()
        let pidFile = CLIAgentBackendTests.temporaryPath("pids")
        defer {
            Self.closeMaster(server, controlDirectory: folder)
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        let ssh = Self.ssh(server, controlDirectory: folder)
        let command = CLIAgentCommand(
            executable: Self.agent("fake-claude.py"), arguments: ["hang"], format: .claudeStreamJSON, environment: ["FAKE_PIDS": pidFile],
            ssh: ssh)
        let (pids, took) = try await CLIAgentBackendTests.cancelAfterFirstChunk(
            CLIAgentBackend(command: command, limits: Self.limits), pidFile: pidFile)
        let clock = ContinuousClock()
        let start = clock.now
        let gone = await CLIAgentBackendTests.waitUntilGone(pids, within: .seconds(5))
        print("[real-ssh] cancel: the turn ended in \(Self.seconds(took)); the remote agent and child gone \(Self.seconds(clock.now - start)) later")
        #expect(took < .seconds(5))
        #expect(gone, "the remote agent \(pids.first ?? 0) and its child \(pids.last ?? 0) are gone")

        #expect(Self.masterPID(server, controlDirectory: folder) != nil, "the shared connection outlives a cancelled session")
        let after = CLIAgentCommand(
            executable: Self.agent("fake-claude.py"), arguments: ["normal"], format: .claudeStreamJSON, ssh: ssh)
        let (events, failure) = try await CLIAgentBackendTests.run(CLIAgentBackend(command: after, limits: Self.limits))
        #expect(failure == nil, "\(String(describing: failure))")
        #expect(CLIAgentBackendTests.text(of: events) == "Hello from the fake.")
    }

    @Test("a remote agent and child that ignore SIGTERM are killed after the remote grace")
    func cancelStubbornRemote() async throws {
        let server = try Self.serverOrFail()
        let folder = Self.controlDirectory()
        let pidFile = CLIAgentBackendTests.temporaryPath("pids")
        defer {
            Self.closeMaster(server, controlDirectory: folder)
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        let command = CLIAgentCommand(
            executable: Self.agent("fake-stubborn.sh"), format: .text, environment: ["FAKE_PIDS": pidFile],
            ssh: Self.ssh(server, controlDirectory: folder, remoteKillGrace: 1))
        let (pids, took) = try await CLIAgentBackendTests.cancelAfterFirstChunk(
            CLIAgentBackend(command: command, limits: Self.limits), pidFile: pidFile)
        let clock = ContinuousClock()
        let start = clock.now
        let gone = await CLIAgentBackendTests.waitUntilGone(pids, within: .seconds(6))
        let goneAfter = clock.now - start
        print("[real-ssh] stubborn cancel: the turn ended in \(Self.seconds(took)); the remote processes gone \(Self.seconds(goneAfter)) later")
        #expect(took < .seconds(5))
        #expect(gone, "SIGKILL reached the remote agent \(pids.first ?? 0) and its child \(pids.last ?? 0)")
        #expect(goneAfter >= .milliseconds(500) || took >= .milliseconds(500), "SIGTERM was ignored: SIGKILL came after the grace")
    }

    @Test("cancelled while connecting or just after: the turn ends at once, nothing hangs, and the next turn works")
    func cancelWhileConnecting() async throws {
        let server = try Self.serverOrFail()
        let folder = Self.controlDirectory()
        defer { Self.closeMaster(server, controlDirectory: folder) }
        let command = CLIAgentCommand(
            executable: Self.agent("fake-claude.py"), arguments: ["normal"], format: .claudeStreamJSON,
            ssh: Self.ssh(server, controlDirectory: folder))
        let backend = CLIAgentBackend(command: command, limits: Self.limits)
        for delay in [0, 40, 150, 300, 450] {
            let task = Task { try await backend.runTurn(CLIAgentBackendTests.request()) { _ in } }
            try await Task.sleep(for: .milliseconds(delay))
            let clock = ContinuousClock()
            let start = clock.now
            task.cancel()
            let result = await task.result
            let took = clock.now - start
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            print("[real-ssh] cancelled \(delay) ms into the first turn: ended in \(Self.seconds(took)); control folder: \(leftovers)")
            #expect(took < .seconds(3))
            if case .success = result { print("[real-ssh]   (the turn had already finished)") }
            let (events, failure) = try await CLIAgentBackendTests.run(backend)
            #expect(failure == nil, "after a cancel \(delay) ms in: \(String(describing: failure))")
            #expect(CLIAgentBackendTests.text(of: events) == "Hello from the fake.")
            Self.closeMaster(server, controlDirectory: folder)
        }
    }

    // MARK: - Failures

    @Test("a remote agent that fails: upstream_error with the end of its standard error")
    func remoteFailure() async throws {
        let server = try Self.serverOrFail()
        let folder = Self.controlDirectory()
        defer { Self.closeMaster(server, controlDirectory: folder) }
        let ssh = Self.ssh(server, controlDirectory: folder)

        let simple = CLIAgentCommand(executable: "/bin/sh", arguments: ["-c", "echo 'agent: out of credit' >&2; exit 1"], format: .text, ssh: ssh)
        let one = try #require(try await CLIAgentBackendTests.run(CLIAgentBackend(command: simple, limits: Self.limits)).failure)
        #expect(one.code == TurnErrorCode.upstreamError)
        #expect(one.message == "the agent exited with status 1: agent: out of credit")
        #expect(one.retryable)

        let chatty = CLIAgentCommand(executable: Self.agent("fake-failing.sh"), ssh: ssh)
        let big = try #require(
            try await CLIAgentBackendTests.run(
                CLIAgentBackend(command: chatty, limits: Self.limits), CLIAgentBackendTests.request(String(repeating: "x", count: 300_000))
            ).failure)
        #expect(big.code == TurnErrorCode.upstreamError)
        #expect(big.message.contains("status 3"))
        #expect(big.message.hasSuffix("fatal: boom"))
        #expect(big.message.utf8.count < 2048 + 100)

        let missing = CLIAgentCommand(executable: "/nonexistent/paliadin-agent", ssh: ssh)
        let notFound = try #require(try await CLIAgentBackendTests.run(CLIAgentBackend(command: missing, limits: Self.limits)).failure)
        #expect(notFound.code == TurnErrorCode.backendUnavailable)
        #expect(notFound.message.contains("status 127"))
    }

    /// A known_hosts line for the server with a key that is not its key.
    static func wrongKnownHosts(_ server: Server) -> String {
        var blob: [UInt8] = [0, 0, 0, 11] + Array("ssh-ed25519".utf8) + [0, 0, 0, 32]
        blob += (0..<32).map { _ in UInt8.random(in: 0...255) }
        return "[\(server.host)]:\(server.port) ssh-ed25519 \(Data(blob).base64EncodedString())\n"
    }

    @Test("a host key that does not match known_hosts, or an unknown host: a prompt failure, not a hang", .timeLimit(.minutes(1)))
    func hostKeyMismatch() async throws {
        let server = try Self.serverOrFail()
        let knownHosts = CLIAgentBackendTests.temporaryPath("known_hosts")
        let empty = CLIAgentBackendTests.temporaryPath("known_hosts_empty")
        let folder = Self.controlDirectory()
        defer {
            Self.closeMaster(server, controlDirectory: folder)
            for path in [knownHosts, empty] { try? FileManager.default.removeItem(atPath: path) }
        }
        try Self.wrongKnownHosts(server).write(toFile: knownHosts, atomically: true, encoding: .utf8)
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        let clock = ContinuousClock()
        for file in [knownHosts, empty] {
            let command = CLIAgentCommand(
                executable: Self.agent("fake-claude.py"), arguments: ["normal"], format: .claudeStreamJSON,
                ssh: Self.ssh(server, controlDirectory: folder, knownHosts: file))
            let start = clock.now
            let (events, failure) = try await CLIAgentBackendTests.run(CLIAgentBackend(command: command, limits: Self.limits))
            let took = clock.now - start
            print("[real-ssh] host key check (\(file == empty ? "unknown host" : "wrong key")) failed in \(Self.seconds(took))")
            let refused = try #require(failure)
            print("[real-ssh]   \(refused.code): \(refused.message.split(separator: "\n").suffix(2).joined(separator: " / "))")
            #expect(events.isEmpty)
            #expect(took < .seconds(10))
            #expect(refused.code == TurnErrorCode.backendUnavailable)
            #expect(refused.message.contains("over ssh (exit status 255)"), "\(refused.message)")
            #expect(refused.message.hasSuffix("\nHost key verification failed."), "\(refused.message)")
            #expect(!refused.message.contains("\r"), "ssh's CRLF line ends are plain line ends in the message")
            #expect(Self.sockets(in: folder).isEmpty, "no shared connection was set up")
        }
    }
}
