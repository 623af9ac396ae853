import Foundation
import Logging
import NIOCore
import NIOEmbedded
import PaliadinCore
import PaliadinEngine
import PaliadinServer
import PaliadinTestSupport
import Synchronization
import Testing

@Suite("Readers that stop reading")
struct StalledReaderTests {
    /// Opens when told to: holds writes pending for as long as a test needs.
    final class Gate: Sendable {
        private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let open = state.withLock { state -> Bool in
                    if state.open { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if open { continuation.resume() }
            }
        }

        /// Writes held now.
        var waiting: Int { state.withLock { $0.waiters.count } }

        /// Returns once `count` writes are held.
        func untilWaiting(_ count: Int) async throws {
            while waiting < count { try await Task.sleep(for: .milliseconds(1)) }
        }

        func open() {
            let waiters = state.withLock { state in
                state.open = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    @Test("on a manual clock: a stream whose write waits the timeout is closed; one that writes, or has no write pending, is not")
    func monitorOnManualClock() async throws {
        let clock = ManualClock()
        let monitor = StalledStreamMonitor(timeout: .seconds(60), clock: EngineClock(clock), logger: Logger(label: "test"))
        let stalled = NIOAsyncTestingChannel()
        let idle = NIOAsyncTestingChannel()
        let busy = NIOAsyncTestingChannel()
        try await stalled.connect(to: .init(ipAddress: "127.0.0.1", port: 1))
        try await idle.connect(to: .init(ipAddress: "127.0.0.1", port: 2))
        try await busy.connect(to: .init(ipAddress: "127.0.0.1", port: 3))
        let stalledWatch = monitor.watch(stalled)
        let idleWatch = monitor.watch(idle)
        let busyWatch = monitor.watch(busy)
        #expect(monitor.watchedCount == 3)

        let gate = Gate()
        let pending = Task { try await stalledWatch.write(bytes: 1) { await gate.wait() } }
        try await gate.untilWaiting(1)
        try await idleWatch.write(bytes: 1) {}
        // The busy stream's writes keep completing.
        for _ in 0..<59 {
            clock.advance(by: .seconds(1))
            try await busyWatch.write(bytes: 1) {}
        }
        #expect(monitor.closeStalledStreams() == 0, "59 s: nothing is closed yet")
        let busyPending = Task { try await busyWatch.write(bytes: 1) { await gate.wait() } }
        try await gate.untilWaiting(2)
        clock.advance(by: .seconds(1))
        #expect(monitor.closeStalledStreams() == 1, "60 s: the stalled stream is closed")
        try await stalled.closeFuture.get()
        #expect(idle.isActive, "a stream with no write pending is never closed: it waits for events")
        #expect(busy.isActive, "a write that began a second ago is not stalled")
        #expect(monitor.watchedCount == 2)
        gate.open()
        try await pending.value
        try await busyPending.value
        monitor.release(idleWatch)
        monitor.release(busyWatch)
        monitor.release(stalledWatch)
        #expect(monitor.watchedCount == 0)

        let off = StalledStreamMonitor(timeout: nil, logger: Logger(label: "test"))
        _ = off.watch(NIOAsyncTestingChannel())
        #expect(off.watchedCount == 0, "without a timeout nothing is watched")
    }

    @Test("once shutdown begins, a write that waits 2 s is enough to close its stream")
    func shutdownShortensTheTimeout() async throws {
        let clock = ManualClock()
        let shuttingDown = Atomic(false)
        let monitor = StalledStreamMonitor(
            timeout: .seconds(60), isShuttingDown: { shuttingDown.load(ordering: .relaxed) }, clock: EngineClock(clock),
            logger: Logger(label: "test"))
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: .init(ipAddress: "127.0.0.1", port: 1))
        let watch = monitor.watch(channel)
        let gate = Gate()
        let pending = Task { try await watch.write(bytes: 1) { await gate.wait() } }
        try await gate.untilWaiting(1)
        clock.advance(by: .seconds(3))
        #expect(monitor.closeStalledStreams() == 0)
        shuttingDown.store(true, ordering: .relaxed)
        #expect(monitor.closeStalledStreams() == 1)
        try await channel.closeFuture.get()
        gate.open()
        try await pending.value
    }

    @Test("a live reader that never reads is cut after the timeout; a reader beside it gets the whole answer")
    func neverReadingReaderIsCut() async throws {
        try await TestHarness.withLiveServer(configure: { $0.stalledReaderTimeout = .seconds(1) }) { harness, client in
            let turnID = try await client.startTurn("mock:huge=4")
            let stalled = try await SlowReader(
                port: client.port, path: "/api/paliadin/stream/\(turnID)", headers: ["Authorization": "Bearer \(harness.ownerToken)"],
                readSize: 65_536, keepText: true)
            let (events, _, _) = try await client.stream(turnID)
            #expect(events.last?.name == "end")
            #expect(events.text.utf8.count == 4 * 1024 * 1024)
            // Once cut, whatever was in the socket's buffers comes out, then the end of the connection.
            for _ in 0..<3000 where !stalled.isClosed {
                stalled.read()
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(stalled.isClosed, "the server closed the stalled stream")
            #expect(stalled.bytesRead < 4 * 1024 * 1024, "it was cut before the answer (read \(stalled.bytesRead) bytes)")
            #expect(!stalled.text.contains("event: end"))
            // The server goes on.
            let next = try await client.startTurn("hello")
            #expect(try await client.stream(next).events.last?.name == "end")
        }
    }

    @Test("a connection whose request never arrives whole is closed after the idle timeout")
    func idleConnectionIsClosed() async throws {
        try await TestHarness.withLiveServer(configure: { $0.idleConnectionTimeout = .seconds(1) }) { _, client in
            let silent = try await SlowReader(port: client.port, rawRequest: "GET /api/paliadin/history HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            for _ in 0..<200 where !silent.isClosed {
                silent.read()
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(silent.isClosed, "the server closed the idle connection")
            #expect(silent.bytesRead == 0, "nothing was answered")
        }
    }
}
