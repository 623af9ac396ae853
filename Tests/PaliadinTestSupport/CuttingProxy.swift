import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of a server, that breaks event streams on purpose: a
/// genuine connection loss in the middle of an answer, as a flaky network gives one.
///
/// It passes bytes both ways untouched, and watches the requests: once a connection has sent
/// `GET /api/paliadin/stream/`, the server's bytes on it are the n-th stream (counting from 0
/// over all connections). A `Plan` says which streams to break, where, and how: closing the
/// connection (both ways) or stalling it (the server's bytes stop reaching the client; the
/// connection stays open).
public final class CuttingProxy: Sendable {
    /// Which streams to break, where, and how.
    public struct Plan: Sendable {
        /// The streams a plan applies to.
        public enum Streams: Sendable {
            /// The n-th stream request the proxy sees (0 for the first).
            case number(Int)
            /// Every stream request.
            case every
        }

        /// What happens at the breaking point.
        public enum Action: Sendable {
            /// Close the connection both ways (the client sees the connection drop).
            case close
            /// Stop passing the server's bytes on, and keep the connection open.
            case stall
        }

        /// The streams the plan breaks.
        public var streams: Streams
        /// Frames (text from `marker` to the next blank line) passed on whole before the break; 0 breaks at once.
        public var frames: Int
        /// What a counted frame contains, e.g. `event: content`.
        public var marker: String
        /// Bytes passed on after the last whole frame: the start of the next frame, lost at the break.
        public var extraBytes: Int
        /// Close or stall.
        public var action: Action

        /// A plan; see the properties.
        public init(streams: Streams, frames: Int, marker: String = "event: content", extraBytes: Int = 0, action: Action = .close) {
            self.streams = streams
            self.frames = frames
            self.marker = marker
            self.extraBytes = extraBytes
            self.action = action
        }

        /// Closes stream `number` after `frames` frames containing `marker`, plus `extraBytes`.
        public static func cut(stream number: Int = 0, afterFrames frames: Int, marker: String = "event: content", extraBytes: Int = 0) -> Plan {
            Plan(streams: .number(number), frames: frames, marker: marker, extraBytes: extraBytes)
        }

        /// Closes every stream after `frames` frames containing `marker`, plus `extraBytes`.
        public static func cutEvery(afterFrames frames: Int, marker: String = "event: ", extraBytes: Int = 0) -> Plan {
            Plan(streams: .every, frames: frames, marker: marker, extraBytes: extraBytes)
        }

        /// Stalls stream `number` after `frames` frames containing `marker`.
        public static func stall(stream number: Int = 0, afterFrames frames: Int, marker: String = "event: content") -> Plan {
            Plan(streams: .number(number), frames: frames, marker: marker, action: .stall)
        }

        func applies(to stream: Int) -> Bool {
            switch streams {
            case .number(let number): number == stream
            case .every: true
            }
        }

        /// Where in a stream's bytes the break falls, once `bytes` show it; nil while they do not yet.
        func breakingPoint(in bytes: [UInt8]) -> Int? {
            guard frames > 0 else { return extraBytes <= bytes.count ? extraBytes : nil }
            let marker = Array(self.marker.utf8)
            var from = 0
            var frameEnd = 0
            for _ in 0..<frames {
                guard let start = CuttingProxy.find(marker, in: bytes, from: from),
                    let end = CuttingProxy.find(Array("\n\n".utf8), in: bytes, from: start + marker.count)
                else { return nil }
                frameEnd = end + 2
                from = frameEnd
            }
            let point = frameEnd + extraBytes
            return point <= bytes.count ? point : nil
        }
    }

    /// What the proxy has seen so far.
    public struct Counts: Sendable, Equatable {
        /// Connections accepted.
        public var connections = 0
        /// Stream requests seen (`GET /api/paliadin/stream/...`).
        public var streams = 0
        /// Streams closed by a plan.
        public var cuts = 0
        /// Streams stalled by a plan.
        public var stalls = 0
    }

    /// The port the proxy listens on (127.0.0.1).
    public let port: Int
    private let targetPort: Int
    private let plans: [Plan]
    private let state = Mutex(Watch())

    private struct Watch {
        var counts = Counts()
        var waiters: [(condition: @Sendable (Counts) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []
    }

    /// What the proxy has seen so far.
    public var counts: Counts { state.withLock { $0.counts } }

    private init(port: Int, targetPort: Int, plans: [Plan]) {
        self.port = port
        self.targetPort = targetPort
        self.plans = plans
    }

    /// Runs a proxy to `127.0.0.1:targetPort` for the duration of `body`, then closes it and every connection through it.
    public static func run<T: Sendable>(
        forwardingTo targetPort: Int, plans: [Plan], _ body: @Sendable (CuttingProxy) async throws -> T
    ) async throws -> T {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let proxy = CuttingProxy(port: server.channel.localAddress?.port ?? 0, targetPort: targetPort, plans: plans)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                try await withThrowingDiscardingTaskGroup { connections in
                    try await server.executeThenClose { inbound in
                        for try await client in inbound {
                            connections.addTask { await proxy.relay(client) }
                        }
                    }
                }
            }
            do {
                let result = try await body(proxy)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Returns once the counts satisfy `condition`.
    public func waitUntil(_ condition: @escaping @Sendable (Counts) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if condition(state.counts) { return true }
                state.waiters.append((condition, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func update(_ change: (inout Counts) -> Void) {
        let ready = state.withLock { state in
            change(&state.counts)
            let counts = state.counts
            let ready = state.waiters.filter { $0.condition(counts) }.map(\.continuation)
            state.waiters.removeAll { $0.condition(counts) }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    // MARK: - Relaying

    /// One connection's view: is it carrying a stream, and what has the server sent on it since.
    private struct Connection {
        /// The latest bytes from the client, to spot a stream request split over reads.
        var requestTail: [UInt8] = []
        /// The stream this connection carries, and the plan for it.
        var stream: Int?
        var plan: Plan?
        /// The server's bytes since the stream request.
        var sent: [UInt8] = []
        /// A plan has broken this connection.
        var broken = false
    }

    /// A connection's state, shared by its two directions.
    private final class ConnectionBox: Sendable {
        let state = Mutex(Connection())
    }

    /// What to do with bytes from the server.
    private enum Decision {
        case forward
        case close(prefix: Int)
        case stall(prefix: Int)
    }

    private static let streamRequest = Array("GET /api/paliadin/stream/".utf8)

    private func relay(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        update { $0.connections += 1 }
        let connection = ConnectionBox()
        let upstream: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            upstream = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: targetPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            try? await client.channel.close()
            return
        }
        do {
            try await client.executeThenClose { clientIn, clientOut in
                try await upstream.executeThenClose { upstreamIn, upstreamOut in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for try await buffer in clientIn {
                                self.noteRequest(buffer, on: connection)
                                try await upstreamOut.write(buffer)
                            }
                        }
                        group.addTask {
                            for try await buffer in upstreamIn {
                                switch self.decide(buffer, on: connection) {
                                case .forward:
                                    try await clientOut.write(buffer)
                                case .close(let prefix):
                                    if prefix > 0 { try await clientOut.write(buffer.getSlice(at: buffer.readerIndex, length: prefix)!) }
                                    return
                                case .stall(let prefix):
                                    if prefix > 0 { try await clientOut.write(buffer.getSlice(at: buffer.readerIndex, length: prefix)!) }
                                    // Hold the connection open, passing nothing on, until the client leaves.
                                    try await Task.sleep(for: .seconds(3600))
                                }
                            }
                        }
                        // Either way ending ends the connection both ways.
                        _ = try await group.next()
                        group.cancelAll()
                    }
                }
            }
        } catch {
            // A connection that fails (or is cut by the proxy's own end) just ends.
        }
    }

    private func noteRequest(_ buffer: ByteBuffer, on box: ConnectionBox) {
        let isStream = box.state.withLock { connection in
            connection.requestTail.append(contentsOf: buffer.readableBytesView)
            if Self.find(Self.streamRequest, in: connection.requestTail, from: 0) != nil {
                connection.requestTail.removeAll()
                return true
            }
            connection.requestTail = Array(connection.requestTail.suffix(Self.streamRequest.count))
            return false
        }
        guard isStream else { return }
        var number = 0
        update { counts in
            number = counts.streams
            counts.streams += 1
        }
        let plan = plans.first { $0.applies(to: number) }
        box.state.withLock { connection in
            connection.stream = number
            connection.plan = plan
            connection.sent = []
        }
    }

    private func decide(_ buffer: ByteBuffer, on box: ConnectionBox) -> Decision {
        let decision = box.state.withLock { connection -> Decision in
            guard let plan = connection.plan, !connection.broken else { return .forward }
            let before = connection.sent.count
            connection.sent.append(contentsOf: buffer.readableBytesView)
            guard let point = plan.breakingPoint(in: connection.sent) else { return .forward }
            connection.broken = true
            let prefix = max(0, point - before)
            return plan.action == .close ? .close(prefix: prefix) : .stall(prefix: prefix)
        }
        switch decision {
        case .forward: break
        case .close: update { $0.cuts += 1 }
        case .stall: update { $0.stalls += 1 }
        }
        return decision
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var index = from
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], Array(haystack[index..<(index + needle.count)]) == needle { return index }
            index += 1
        }
        return nil
    }
}
