import Foundation
import PaliadinCore
import PaliadinStore
import Testing

/// The PostgreSQL store when no server answers (no server needed).
@Suite("PostgreSQL store without a server")
struct PostgresOfflineTests {
    /// A loopback port nothing listens on (privileged, so no test server takes it).
    static let deadURL = "postgres://paliadin:s3cret@127.0.0.1:1/paliadin"

    /// No timed assertion (machines are noisy): a listener that ignored cancellation would
    /// never return, and the time limit catches that.
    @Test("listen keeps trying while the server is down, and returns when it is cancelled", .timeLimit(.minutes(1)))
    func listenWithoutServer() async throws {
        let store = try PostgresTurnStore(url: Self.deadURL, logger: TestPostgres.logger)
        let received = Received()
        let listener = Task { try await store.listen { received.append($0) } }
        try await Task.sleep(for: .milliseconds(700))
        listener.cancel()
        try await listener.value
        #expect(received.all.isEmpty)
    }
}
