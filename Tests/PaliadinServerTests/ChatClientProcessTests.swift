import Foundation
import PaliadinCore
import PaliadinTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `paliadin chat` binary against a live server, sent a real SIGINT.
@Suite("paliadin chat as a process: real SIGINT", .timeLimit(.minutes(2)))
struct ChatClientProcessTests {
    /// The built `paliadin` binary: `PALIADIN_BINARY`, else the debug build of this checkout.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PALIADIN_BINARY"], !path.isEmpty { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/paliadin").path
    }

    static var binaryBuilt: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    @Test("SIGINT mid-answer cancels the turn on the server; the process exits 130 having printed what the server kept", .enabled(if: binaryBuilt))
    func sigintCancels() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let message = "mock:chunks=500 delay=20ms"
            let chat = try ChatProcess(arguments: ["chat", "--server", client.base, message], token: harness.ownerToken)
            await chat.output.wait { $0.contains("t3 ") }
            chat.interrupt()
            let status = await chat.exitStatus()
            #expect(status == 130)
            let row = try await client.row(asking: message)
            _ = try await client.waitUntilFinished(row.id.description)
            let finished = try #require(try await harness.store.turn(row.id))
            #expect(finished.status == .cancelled)
            await chat.output.waitForEnd()
            #expect(chat.output.text == finished.response + "\n")
            await chat.errors.waitForEnd()
            #expect(chat.errors.text.contains("(cancelled)"))
        }
    }

    @Test("a second SIGINT leaves at once while the stream has stalled", .enabled(if: binaryBuilt))
    func secondSigintLeaves() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, plans: [.stall(stream: 0, afterFrames: 3)]) { proxy in
                let message = "mock:chunks=500 delay=20ms"
                let chat = try ChatProcess(arguments: ["chat", "--server", "http://127.0.0.1:\(proxy.port)", message], token: harness.ownerToken)
                await chat.output.wait { $0.contains("t3 ") }
                await proxy.waitUntil { $0.stalls == 1 }
                chat.interrupt()
                let row = try await client.row(asking: message)
                _ = try await client.waitUntilFinished(row.id.description)
                chat.interrupt()
                #expect(await chat.exitStatus() == 130)
                await chat.errors.waitForEnd()
                #expect(chat.errors.text.contains("left without waiting"))
            }
        }
    }

    @Test("a server not running: exit 69 and a clear message", .enabled(if: binaryBuilt))
    func unreachable() async throws {
        let port = try await freeLoopbackPort()
        let chat = try ChatProcess(arguments: ["chat", "--server", "http://127.0.0.1:\(port)", "hello"], token: nil)
        #expect(await chat.exitStatus() == 69)
        await chat.errors.waitForEnd()
        #expect(chat.errors.text.contains("cannot reach Paliadin at http://127.0.0.1:\(port)"))
    }
}

/// A running `paliadin chat`, its output read as it comes.
private final class ChatProcess: Sendable {
    let output = PipeReader()
    let errors = PipeReader()
    private let process: Process
    private let exit = ExitWatch()

    /// The exit status once known, and who waits for it.
    private final class ExitWatch: Sendable {
        let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    }

    init(arguments: [String], token: String?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ChatClientProcessTests.binary)
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
            let status = process.terminationStatus
            let waiters = exit.state.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
        try process.run()
        output.start(stdout.fileHandleForReading)
        errors.start(stderr.fileHandleForReading)
    }

    /// Sends SIGINT, as Ctrl-C at a terminal does.
    func interrupt() {
        kill(process.processIdentifier, SIGINT)
    }

    /// The exit status, once the process has ended.
    func exitStatus() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = exit.state.withLock { state in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}

/// Reads a pipe on a thread of its own, and lets a test wait for what it read.
private final class PipeReader: Sendable {
    private struct State {
        var text = ""
        var ended = false
        var waiters: [(condition: @Sendable (String, Bool) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state = Mutex(State())

    var text: String { state.withLock { $0.text } }

    func start(_ handle: FileHandle) {
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                self.append(String(decoding: data, as: UTF8.self), ended: data.isEmpty)
                if data.isEmpty { return }
            }
        }
    }

    private func append(_ text: String, ended: Bool) {
        let ready = state.withLock { state in
            state.text += text
            state.ended = state.ended || ended
            let (text, ended) = (state.text, state.ended)
            let ready = state.waiters.filter { $0.condition(text, ended) }.map(\.continuation)
            state.waiters.removeAll { $0.condition(text, ended) }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once what was read satisfies `condition` (or the pipe has ended).
    func wait(_ condition: @escaping @Sendable (String) -> Bool) async {
        await wait { text, ended in ended || condition(text) }
    }

    /// Returns once the pipe has ended (the process closed it, or exited).
    func waitForEnd() async {
        await wait { _, ended in ended }
    }

    private func wait(_ condition: @escaping @Sendable (String, Bool) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if condition(state.text, state.ended) { return true }
                state.waiters.append((condition, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
