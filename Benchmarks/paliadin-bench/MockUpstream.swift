import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A fast OpenAI-compatible mock upstream on SwiftNIO, on its own event loop in the bench
/// process: `POST …/chat/completions` with `stream: true` answers a `MockScript` (burst, paced,
/// first-chunk delay) read from the last user message, with pre-encoded chunks.
final class MockUpstream: Sendable {
    /// The base URL to give an OpenAI client: `http://127.0.0.1:PORT/v1`.
    let baseURL: String
    let port: Int
    let chunks = MockChunks()
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let firstContent = Mutex<[String: UInt64]>([:])
    private let requestCount = Atomic<Int>(0)

    /// Binds to a free loopback port on `threads` event loops of its own.
    init(threads: Int = 1) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.group = group
        let box = Mutex<MockUpstream?>(nil)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 8192)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let upstream = box.withLock({ $0 }) else { throw BenchError("mock not ready") }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MockUpstreamHandler(upstream: upstream))
                }
            }
        do {
            channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        port = channel.localAddress?.port ?? 0
        baseURL = "http://127.0.0.1:\(port)/v1"
        box.withLock { $0 = self }
    }

    /// Closes the listener and stops the event loop.
    func shutdown() async {
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    /// Requests answered so far.
    var requests: Int { requestCount.load(ordering: .relaxed) }

    func countRequest() { requestCount.add(1, ordering: .relaxed) }

    /// Records when the first content chunk of a tagged request was flushed.
    func recordFirstContent(tag: String, at time: UInt64) {
        firstContent.withLock { $0[tag] = time }
    }

    /// When the first content chunk of `tag` was flushed (and forgets it).
    func takeFirstContent(tag: String) -> UInt64? {
        firstContent.withLock { $0.removeValue(forKey: tag) }
    }
}
