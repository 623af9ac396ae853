import Hummingbird
import Logging

/// Runs a test server (a mock upstream) on 127.0.0.1 for the duration of a body.
enum LoopbackServer {
    /// Serves `router` on `port` (0: a free one), hands the port to `body`, and stops the
    /// server when `body` returns.
    static func run<T: Sendable>(
        _ router: Router<BasicRequestContext>, name: String, port requestedPort: Int, _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let (portStream, portInput) = AsyncStream.makeStream(of: Int.self)
        // The server is stopped by cancellation, which it logs as an error: keep it quiet.
        var logger = Logger(label: name)
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: requestedPort), serverName: name),
            onServerRunning: { channel in
                portInput.yield(channel.localAddress?.port ?? 0)
                portInput.finish()
            },
            logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.run()
                return nil
            }
            var port = 0
            for await value in portStream { port = value }
            let result = try await body(port)
            group.cancelAll()
            return result
        }
    }
}
