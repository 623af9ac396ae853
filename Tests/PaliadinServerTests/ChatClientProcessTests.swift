import Foundation
import PaliadinCore
import PaliadinTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `paliadin chat` binary against a live server, sent a real SIGINT.
///
/// The test target cannot depend on the executable, so these tests run the binary that
/// `swift build` made (`make test` builds it first): they fail, saying so, when it is missing or
/// older than the client's compiled code.
@Suite("paliadin chat as a process: real SIGINT", .timeLimit(.minutes(2)))
struct ChatClientProcessTests {
    @Test("SIGINT mid-answer cancels the turn on the server; the process exits 130 having printed what the server kept")
    func sigintCancels() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let message = "mock:chunks=500 delay=20ms"
            try await ChatProcess.run(arguments: ["chat", "--server", client.base, "--session", "process-cancel", message], token: harness.ownerToken) { chat in
                try await chat.output.wait { text, _ in text.contains("t3 ") }
                chat.interrupt()
                let status = try await chat.exitStatus()
                #expect(status == 130)
                let row = try await client.row(asking: message)
                _ = try await client.waitUntilFinished(row.id.description)
                let finished = try #require(try await harness.store.turn(row.id))
                #expect(finished.status == .cancelled)
                try await chat.output.wait { _, ended in ended }
                #expect(chat.output.text == finished.response + "\n")
                try await chat.errors.wait { _, ended in ended }
                #expect(chat.errors.text.contains("cancelling…"))
                #expect(chat.errors.text.contains("(cancelled)"))
                #expect(!chat.errors.text.contains("--session"), "the session was given: nothing to tell")
            }
        }
    }

    @Test("a second SIGINT leaves at once while the stream has stalled")
    func secondSigintLeaves() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, plans: [.stall(stream: 0, afterFrames: 3)]) { proxy in
                let message = "mock:chunks=500 delay=20ms"
                try await ChatProcess.run(arguments: ["chat", "--server", "http://127.0.0.1:\(proxy.port)", message], token: harness.ownerToken) { chat in
                    try await chat.output.wait { text, _ in text.contains("t3 ") }
                    try await proxy.waitUntil { $0.stalls == 1 }
                    chat.interrupt()
                    let row = try await client.row(asking: message)
                    _ = try await client.waitUntilFinished(row.id.description)
                    chat.interrupt()
                    #expect(try await chat.exitStatus() == 130)
                    try await chat.errors.wait { _, ended in ended }
                    #expect(chat.errors.text.contains("left without waiting"))
                }
            }
        }
    }

    @Test("one question without --session: the answer on standard output, the session id to continue on standard error")
    func oneShotTellsSession() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await ChatProcess.run(arguments: ["chat", "--server", client.base, "mock:chunks=3"], token: harness.ownerToken) { chat in
                #expect(try await chat.exitStatus() == 0)
                try await chat.output.wait { _, ended in ended }
                try await chat.errors.wait { _, ended in ended }
                #expect(chat.output.text == "t1 t2 t3 \n")
                let row = try await client.row(asking: "mock:chunks=3")
                #expect(chat.errors.text.contains("--session \(row.sessionID)"))
            }
        }
    }

    @Test("a server not running: exit 69 and a clear message")
    func unreachable() async throws {
        let port = try await freeLoopbackPort()
        try await ChatProcess.run(arguments: ["chat", "--server", "http://127.0.0.1:\(port)", "hello"], token: nil) { chat in
            #expect(try await chat.exitStatus() == 69)
            try await chat.errors.wait { _, ended in ended }
            #expect(chat.errors.text.contains("cannot reach Paliadin at http://127.0.0.1:\(port)"))
            #expect(!chat.errors.text.contains("--session"), "no turn started: no session to continue")
        }
    }
}

/// A running `paliadin chat`, its output read as it comes.
private final class ChatProcess: Sendable {
    /// The `paliadin` binary: `PALIADIN_BINARY`, else the debug build of this checkout.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PALIADIN_BINARY"], !path.isEmpty { return path }
        return checkout.appendingPathComponent(".build/debug/paliadin").path
    }

    private static var checkout: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Fails (with what to do) when the binary is missing, or older than the client's compiled
    /// code (the library was rebuilt, the executable was not). Compared with the object files,
    /// not the sources: a source touched without a change is not compiled again, nor the binary linked.
    static func checkBinary() throws {
        let files = FileManager.default
        try #require(files.isExecutableFile(atPath: binary), "no paliadin binary at \(binary): build it first (swift build, or make test)")
        guard ProcessInfo.processInfo.environment["PALIADIN_BINARY"] == nil else { return }
        let built = try files.attributesOfItem(atPath: binary)[.modificationDate] as? Date ?? .distantPast
        let objects = ["PaliadinClient.build", "paliadin.build"].flatMap { folder in
            let directory = URL(fileURLWithPath: binary).deletingLastPathComponent().appendingPathComponent(folder)
            return ((try? files.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".o") }
                .map { directory.appendingPathComponent($0).path }
        }
        for object in objects {
            let compiled = try files.attributesOfItem(atPath: object)[.modificationDate] as? Date ?? .distantPast
            try #require(compiled <= built, "\(binary) is older than \(object): link it again first (swift build)")
        }
    }

    /// Runs `paliadin` with `arguments` for the duration of `body`; the process is killed if
    /// it is still running when `body` ends (or throws).
    static func run(arguments: [String], token: String?, _ body: (ChatProcess) async throws -> Void) async throws {
        try checkBinary()
        let chat = try ChatProcess(arguments: arguments, token: token)
        defer { chat.stop() }
        try await body(chat)
    }

    let output = WatchedText(name: "the process's standard output")
    let errors = WatchedText(name: "the process's standard error")
    private let process: Process
    /// The exit status, as text, once the process has ended.
    private let exit = WatchedText(name: "the process's exit")

    private init(arguments: [String], token: String?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PALIADIN_") }
        if let token { environment["PALIADIN_TOKEN"] = token }
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        self.process = process
        let exit = self.exit
        process.terminationHandler = { process in
            exit.append(String(process.terminationStatus), ended: true)
        }
        try process.run()
        Self.read(stdout.fileHandleForReading, into: output)
        Self.read(stderr.fileHandleForReading, into: errors)
    }

    /// Sends SIGINT, as Ctrl-C at a terminal does.
    func interrupt() {
        kill(process.processIdentifier, SIGINT)
    }

    /// Ends the process (SIGKILL) if it still runs.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The exit status, once the process has ended; throws after `chatWaitTimeout`.
    func exitStatus() async throws -> Int32 {
        try await exit.wait { _, ended in ended }
        return Int32(exit.text) ?? -1
    }

    /// Reads a pipe on a thread of its own, to its end.
    private static func read(_ handle: FileHandle, into text: WatchedText) {
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                text.append(String(decoding: data, as: UTF8.self), ended: data.isEmpty)
                if data.isEmpty { return }
            }
        }
    }
}
