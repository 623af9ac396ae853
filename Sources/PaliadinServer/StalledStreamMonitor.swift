import Logging
import NIOCore
import PaliadinEngine
import ServiceLifecycle
import Synchronization

/// Closes the connections of event streams whose reader stopped taking data.
///
/// A reader that never reads (a frozen tab, a client gone without closing, a deliberate
/// slow reader) leaves its stream's write waiting once the socket's buffers are full. The
/// write waits without memory growing (the event log is shared; a reader keeps only its
/// cursor), but the connection and its task would stay forever. A stream whose write has
/// waited `timeout` is closed; its reader can resume with `Last-Event-ID` when it wakes.
///
/// Once shutdown begins, a write that waits `shutdownTimeout` is enough: the server waits
/// for its open streams, and a reader that takes nothing would hold the shutdown up.
///
/// One check every quarter of `timeout` (at most every 5 s; every 250 ms during shutdown)
/// looks at every open stream; a write costs two atomic stores.
public final class StalledStreamMonitor: Service, Sendable {
    /// One open stream: its connection, and since when its pending write waits.
    public final class Watch: Sendable {
        fileprivate let channel: any Channel
        fileprivate let id: Int
        private let clock: EngineClock
        /// Nanoseconds on the monitor's clock when the pending write began; -1 when none waits.
        private let pendingSince = Atomic<Int64>(-1)

        fileprivate init(channel: any Channel, id: Int, clock: EngineClock) {
            self.channel = channel
            self.id = id
            self.clock = clock
        }

        /// Bytes handed to the connection since its event loop last caught up with them.
        private let unsettledBytes = Atomic<Int>(0)
        /// How far a stream may write ahead of its connection's event loop.
        public static let writeAhead = 128 * 1024

        /// Runs one write of `bytes` bytes of the stream, timed.
        ///
        /// A write returns once the connection has queued the data, and the connection learns
        /// that its socket is full only when its event loop gets to the data: a stream catching
        /// up on a long answer could queue megabytes for a reader that reads nothing. So every
        /// `writeAhead` bytes the stream waits for the event loop to catch up; the next write
        /// then waits for the socket, as it should.
        public func write(bytes: Int, _ body: () async throws -> Void) async throws {
            pendingSince.store(Self.nanoseconds(clock.now), ordering: .relaxed)
            defer { pendingSince.store(-1, ordering: .relaxed) }
            try await body()
            if unsettledBytes.add(bytes, ordering: .relaxed).newValue >= Self.writeAhead {
                unsettledBytes.store(0, ordering: .relaxed)
                try await channel.eventLoop.submit {}.get()
            }
        }

        /// How long the pending write has waited at `now`, or nil when none waits.
        fileprivate func waited(at now: Duration) -> Duration? {
            let since = pendingSince.load(ordering: .relaxed)
            guard since >= 0 else { return nil }
            return now - .nanoseconds(since)
        }

        fileprivate static func nanoseconds(_ duration: Duration) -> Int64 {
            duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        }
    }

    private struct State {
        var watches: [Int: Watch] = [:]
        var nextID = 0
    }

    /// How long a write may wait before its stream is closed; nil: never.
    public let timeout: Duration?
    /// How long a write may wait once shutdown has begun.
    public let shutdownTimeout: Duration
    private let isShuttingDown: @Sendable () -> Bool
    private let clock: EngineClock
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - timeout: how long a write may wait; nil or zero: streams are never closed, and a
    ///     reader that takes nothing holds up a graceful shutdown for as long as it stays.
    ///   - isShuttingDown: true once the server has begun to shut down.
    public init(
        timeout: Duration?, shutdownTimeout: Duration = .seconds(2), isShuttingDown: @escaping @Sendable () -> Bool = { false },
        clock: EngineClock = .continuous, logger: Logger
    ) {
        self.timeout = timeout.flatMap { $0 > .zero ? $0 : nil }
        self.shutdownTimeout = shutdownTimeout
        self.isShuttingDown = isShuttingDown
        self.clock = clock
        self.logger = logger
    }

    /// Starts watching a stream's connection; `release` it when the stream ends.
    public func watch(_ channel: any Channel) -> Watch {
        state.withLock { state in
            state.nextID += 1
            let watch = Watch(channel: channel, id: state.nextID, clock: clock)
            if timeout != nil { state.watches[watch.id] = watch }
            return watch
        }
    }

    /// Stops watching a stream.
    public func release(_ watch: Watch) {
        _ = state.withLock { $0.watches.removeValue(forKey: watch.id) }
    }

    /// Streams watched now (for tests).
    public var watchedCount: Int { state.withLock { $0.watches.count } }

    /// Closes the streams whose write has waited `timeout` or longer; returns how many.
    @discardableResult
    public func closeStalledStreams() -> Int {
        guard var timeout else { return 0 }
        if isShuttingDown() { timeout = min(timeout, shutdownTimeout) }
        let now = clock.now
        let stalled = state.withLock { state -> [Watch] in
            let stalled = state.watches.values.filter { ($0.waited(at: now) ?? .zero) >= timeout }
            for watch in stalled { state.watches.removeValue(forKey: watch.id) }
            return stalled
        }
        for watch in stalled { watch.channel.close(promise: nil) }
        if !stalled.isEmpty {
            logger.info("closed streams whose reader took no data", metadata: ["count": "\(stalled.count)", "timeout": "\(timeout)"])
        }
        return stalled.count
    }

    public func run() async throws {
        guard let timeout else { return }
        let interval = min(timeout / 4, .seconds(5))
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.clock.sleep(for: self.isShuttingDown() ? min(interval, .milliseconds(250)) : interval)
                } catch {
                    return
                }
                self.closeStalledStreams()
            }
        }
    }
}
