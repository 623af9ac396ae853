import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of a server, that breaks event streams on purpose: a
/// genuine connection loss in the middle of an answer, as a flaky network gives one. It can
/// also hold requests back (a request that hangs on its way to the server).
///
/// It passes bytes both ways untouched, and reads the request lines the client sends: on a
/// connection that has sent `GET /api/paliadin/stream/`, the server's bytes are the n-th stream
/// (counting from 0 over all connections) until the client sends its next request on that
/// connection. A `Plan` says which streams to break, where, and how: closing the connection
/// (both ways) or stalling it (the server's bytes stop reaching the client; the connection
/// stays open). A request whose request line contains one of the `holding` texts goes no
/// further than the proxy until `release()` (nor does anything after it on its connection).
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
    }

    /// Where a plan breaks one stream, found as the stream's bytes arrive: each byte is looked
    /// at about once, however the bytes are split.
    struct BreakWatch {
        let plan: Plan
        private let marker: [UInt8]
        private static let frameEnd = Array("\n\n".utf8)
        /// The stream's bytes so far.
        private(set) var bytes: [UInt8] = []
        private var framesFound = 0
        /// Where the last frame found ends.
        private var lastFrameEnd = 0
        /// Where the search goes on.
        private var searchFrom = 0
        /// The marker of the next frame was found; its end is being looked for.
        private var inFrame = false

        init(plan: Plan) {
            self.plan = plan
            marker = Array(plan.marker.utf8)
        }

        /// Takes the next bytes; returns the breaking point (an offset in the stream's bytes)
        /// once they show it.
        mutating func feed(_ next: some Sequence<UInt8>) -> Int? {
            bytes.append(contentsOf: next)
            guard plan.frames > 0 else { return plan.extraBytes <= bytes.count ? plan.extraBytes : nil }
            while framesFound < plan.frames {
                let needle = inFrame ? Self.frameEnd : marker
                guard let found = CuttingProxy.find(needle, in: bytes, from: searchFrom) else {
                    // Next time, look again only where a match could still begin.
                    searchFrom = max(searchFrom, bytes.count - needle.count + 1)
                    return nil
                }
                if inFrame {
                    framesFound += 1
                    lastFrameEnd = found + needle.count
                }
                searchFrom = found + needle.count
                inFrame.toggle()
            }
            let point = lastFrameEnd + plan.extraBytes
            return point <= bytes.count ? point : nil
        }
    }

    /// What the proxy has seen so far.
    public struct Counts: Sendable, Equatable {
        /// Connections accepted.
        public var connections = 0
        /// Requests seen (request lines the clients sent).
        public var requests = 0
        /// Stream requests seen (`GET /api/paliadin/stream/...`).
        public var streams = 0
        /// Streams closed by a plan.
        public var cuts = 0
        /// Streams stalled by a plan.
        public var stalls = 0
        /// Requests held back (see `holding`).
        public var held = 0
    }

    /// The timeout of `waitUntil` unless told otherwise: far beyond what any wait should take.
    public static let defaultWaitTimeout: Duration = .seconds(30)

    /// The port the proxy listens on (127.0.0.1).
    public let port: Int
    private let targetPort: Int
    private let plans: [Plan]
    private let holding: [[UInt8]]
    private let state = Mutex(Watch())

    private struct Watch {
        var counts = Counts()
        var requestLines: [String] = []
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: (condition: @Sendable (Counts) -> Bool, continuation: CheckedContinuation<Void, any Error>)] = [:]
        /// `release()` was called: nothing is held any more.
        var released = false
        var heldWaiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    }

    /// What the proxy has seen so far.
    public var counts: Counts { state.withLock { $0.counts } }

    /// The request lines the clients sent, in order (`POST /api/paliadin/turn HTTP/1.1`).
    public var requestLines: [String] { state.withLock { $0.requestLines } }

    private init(port: Int, targetPort: Int, plans: [Plan], holding: [String]) {
        self.port = port
        self.targetPort = targetPort
        self.plans = plans
        self.holding = holding.map { Array($0.utf8) }
    }

    /// Runs a proxy to `127.0.0.1:targetPort` for the duration of `body`, then closes it and
    /// every connection through it. Requests whose request line contains one of `holding` are
    /// held until `release()`.
    public static func run<T: Sendable>(
        forwardingTo targetPort: Int, plans: [Plan] = [], holding: [String] = [], _ body: @Sendable (CuttingProxy) async throws -> T
    ) async throws -> T {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let proxy = CuttingProxy(port: server.channel.localAddress?.port ?? 0, targetPort: targetPort, plans: plans, holding: holding)
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

    /// A wait that took longer than it should.
    public struct WaitTimedOut: Error, CustomStringConvertible {
        /// What was waited for, and what the counts were instead.
        public let description: String
    }

    /// Returns once the counts satisfy `condition`; throws `WaitTimedOut` after `timeout`.
    public func waitUntil(
        timeout: Duration = defaultWaitTimeout, _ condition: @escaping @Sendable (Counts) -> Bool, sourceLocation: String = #fileID, line: Int = #line
    ) async throws {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            let counts = self.counts
            waiter?.continuation.resume(
                throwing: WaitTimedOut(description: "the proxy's counts did not get there in \(timeout) (\(sourceLocation):\(line)); they are \(counts)"))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { state in
                    if condition(state.counts) { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = (condition, continuation)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Lets the requests held so far go on, and holds nothing more.
    public func release() {
        let held = state.withLock { state in
            state.released = true
            defer { state.heldWaiters = [:] }
            return Array(state.heldWaiters.values)
        }
        for continuation in held { continuation.resume() }
    }

    private func update(_ change: (inout Watch) -> Void) {
        let ready = state.withLock { state in
            change(&state)
            let counts = state.counts
            let ready = state.waiters.filter { $0.value.condition(counts) }
            for id in ready.keys { state.waiters.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Waits until `release()` (or the proxy's end).
    private func waitForRelease() async throws {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { state in
                    if state.released { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.heldWaiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.heldWaiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }

    // MARK: - Relaying

    /// One connection's view: the request being read, and the stream it carries now.
    private struct Connection {
        /// The head of the client's current request so far (nil while its body passes).
        var head: [UInt8]? = []
        /// Bytes of the current request's body still to come.
        var bodyLeft = 0
        /// The stream the connection carries, while it does, with its plan.
        var watch: BreakWatch?
        /// The server's bytes on this connection since the stream request.
        var streamBytes = 0
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
    private static let longestHeadKept = 16 * 1024

    private func relay(_ client: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        update { $0.counts.connections += 1 }
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
                                // Up to each request line to hold, then wait, then on.
                                var written = 0
                                for start in self.noteRequests(buffer, on: connection) {
                                    if start > written {
                                        try await upstreamOut.write(buffer.getSlice(at: buffer.readerIndex + written, length: start - written)!)
                                        written = start
                                    }
                                    try await self.waitForRelease()
                                }
                                if buffer.readableBytes > written {
                                    try await upstreamOut.write(buffer.getSlice(at: buffer.readerIndex + written, length: buffer.readableBytes - written)!)
                                }
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

    /// Reads the requests in the client's bytes (heads, and bodies by their `Content-Length`):
    /// counts them, attaches a plan to a stream request (and detaches the plan of the stream
    /// before: the connection carries something else now). Returns where, in `buffer`, each
    /// request to hold begins (0 when it began in an earlier buffer).
    private func noteRequests(_ buffer: ByteBuffer, on box: ConnectionBox) -> [Int] {
        var requestLines: [(line: [UInt8], start: Int)] = []
        box.state.withLock { connection in
            let bytes = Array(buffer.readableBytesView)
            var index = 0
            var headStart = 0
            while index < bytes.count {
                if connection.bodyLeft > 0 {
                    let skipped = min(connection.bodyLeft, bytes.count - index)
                    connection.bodyLeft -= skipped
                    index += skipped
                    if connection.bodyLeft == 0 {
                        connection.head = []
                        headStart = index
                    }
                    continue
                }
                if connection.head == nil {
                    connection.head = []
                    headStart = index
                }
                if connection.head!.count < Self.longestHeadKept { connection.head!.append(bytes[index]) }
                index += 1
                guard let head = connection.head, head.count >= 4, head.suffix(4).elementsEqual([0x0D, 0x0A, 0x0D, 0x0A]) else { continue }
                let lines = head.split(separator: 0x0A).map { Array($0.last == 0x0D ? $0.dropLast() : $0) }
                requestLines.append((lines.first ?? [], headStart))
                let length = lines.dropFirst().lazy.compactMap { line -> Int? in
                    let text = String(decoding: line, as: UTF8.self).lowercased()
                    guard text.hasPrefix("content-length:") else { return nil }
                    return Int(String(text.dropFirst("content-length:".count).filter { $0 != " " && $0 != "\t" }))
                }.first ?? 0
                connection.bodyLeft = length
                connection.head = length > 0 ? nil : []
                headStart = index
            }
        }
        var holds: [Int] = []
        for (line, start) in requestLines {
            let isStream = line.starts(with: Self.streamRequest)
            let hold = holding.contains { Self.find($0, in: line, from: 0) != nil }
            var number = 0
            update { state in
                state.counts.requests += 1
                state.requestLines.append(String(decoding: line, as: UTF8.self))
                if isStream {
                    number = state.counts.streams
                    state.counts.streams += 1
                }
                if hold, !state.released { state.counts.held += 1 }
            }
            let plan = isStream ? plans.first { $0.applies(to: number) } : nil
            box.state.withLock { connection in
                connection.watch = plan.map(BreakWatch.init)
                connection.streamBytes = 0
            }
            if hold, !state.withLock({ $0.released }) { holds.append(start) }
        }
        return holds
    }

    private func decide(_ buffer: ByteBuffer, on box: ConnectionBox) -> Decision {
        let decision = box.state.withLock { connection -> Decision in
            // Fed in place: a copy of the watch would copy the stream's bytes every time.
            guard !connection.broken, connection.watch != nil else { return .forward }
            let before = connection.streamBytes
            connection.streamBytes += buffer.readableBytes
            guard let point = connection.watch!.feed(buffer.readableBytesView), let plan = connection.watch?.plan else { return .forward }
            connection.broken = true
            let prefix = max(0, point - before)
            return plan.action == .close ? .close(prefix: prefix) : .stall(prefix: prefix)
        }
        switch decision {
        case .forward: break
        case .close: update { $0.counts.cuts += 1 }
        case .stall: update { $0.counts.stalls += 1 }
        }
        return decision
    }

    /// The first index of `needle` in `haystack` at or after `from`.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = max(from, 0)
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] {
                var matched = 1
                while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}
