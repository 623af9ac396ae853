import NIOCore
import NIOPosix
import Synchronization

/// A client of an event stream that reads only when told to, as little as it is told to:
/// a frozen browser tab, or a deliberately slow reader. It sends the request, then the
/// socket's small receive buffer fills and the server's writes wait.
public final class SlowReader: Sendable {
    private final class Counter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = Mutex((bytes: 0, text: "", closed: false))
        let keepText: Bool

        init(keepText: Bool) {
            self.keepText = keepText
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { state in
                state.bytes += buffer.readableBytes
                if keepText { state.text += String(buffer: buffer) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.withLock { $0.closed = true }
            context.fireChannelInactive()
        }
    }

    private let channel: any Channel
    private let counter: Counter

    /// Connects to `127.0.0.1:port` and sends `GET path` with `headers`; reads nothing yet.
    ///
    /// - Parameters:
    ///   - readSize: the most bytes one `read()` takes (1 for a reader of a byte at a time).
    ///   - keepText: keep what was read, to look at it afterwards.
    public convenience init(port: Int, path: String, headers: [String: String] = [:], readSize: Int = 1, keepText: Bool = false) async throws {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try await self.init(port: port, rawRequest: request, readSize: readSize, keepText: keepText)
    }

    /// Connects to `127.0.0.1:port` and sends `rawRequest` as it is (it may be incomplete).
    public init(port: Int, rawRequest: String, readSize: Int = 1, keepText: Bool = false) async throws {
        let counter = Counter(keepText: keepText)
        self.counter = counter
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.autoRead, value: false)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: max(readSize, 1)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        try await channel.writeAndFlush(ByteBuffer(string: rawRequest))
    }

    /// Takes one read's worth (at most `readSize` bytes) from the socket.
    public func read() {
        channel.read()
    }

    /// Bytes read so far.
    public var bytesRead: Int { counter.received.withLock { $0.bytes } }
    /// What was read so far (with `keepText`).
    public var text: String { counter.received.withLock { $0.text } }
    /// True once the connection is closed (by either side).
    public var isClosed: Bool { counter.received.withLock { $0.closed } }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}
