import Hummingbird
import Logging
import ServiceLifecycle

/// Runs a test server (a mock upstream) on 127.0.0.1 for the duration of a body.
enum LoopbackServer {
    /// How long the server waits for open requests when the body is done, before it is cancelled.
    static let shutdownGrace: Duration = .seconds(3)

    /// Serves `router` on `port` (0: a free one), hands the port to `body`, and stops the
    /// server when `body` returns.
    ///
    /// The server is stopped gracefully: it stops accepting, then serves the connections it
    /// already accepted. Stopping it by cancellation instead drops connections accepted in
    /// that instant, and NIO then traps when such a connection becomes active ("Deinited
    /// NIOAsyncWriter without calling finish()"): a client still connecting as a test ends
    /// (a cancelled request's connection is still being set up) crashed the whole test run.
    /// Requests that never end (a silent mock) are cut after `shutdownGrace`.
    static func run<T: Sendable>(
        _ router: Router<BasicRequestContext>, name: String, port requestedPort: Int, _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let (portStream, portInput) = AsyncStream.makeStream(of: Int.self)
        // A cut request is logged as an error: keep it quiet.
        var logger = Logger(label: name)
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: requestedPort), serverName: name),
            onServerRunning: { channel in
                portInput.yield(channel.localAddress?.port ?? 0)
                portInput.finish()
            },
            logger: logger)
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            var port = 0
            for await value in portStream { port = value }
            let result: T
            do {
                result = try await body(port)
            } catch {
                await stop(services, group: &group)
                throw error
            }
            await stop(services, group: &group)
            return result
        }
    }

    /// Asks the server to stop, and cancels it when it has not after `shutdownGrace`.
    private static func stop(_ services: ServiceGroup, group: inout ThrowingTaskGroup<Void, any Error>) async {
        await services.triggerGracefulShutdown()
        group.addTask { try await Task.sleep(for: shutdownGrace) }
        // The first to end: the server, or the grace period.
        _ = try? await group.next()
        group.cancelAll()
        while (try? await group.next()) != nil {}
    }
}
