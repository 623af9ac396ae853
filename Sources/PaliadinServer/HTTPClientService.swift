import AsyncHTTPClient
import ServiceLifecycle

/// Owns the HTTP client the backends use, and shuts it down after the services that use it.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
