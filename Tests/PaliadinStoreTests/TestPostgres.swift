import Foundation
import Logging
import PaliadinStore

/// The PostgreSQL server of the tests, when `PALIADIN_TEST_POSTGRES_URL` names one
/// (`scripts/postgres.sh start` prints such a URL): each test gets a fresh, empty database of
/// its own, dropped at the end.
enum TestPostgres {
    /// The server's URL (its database is only used to create and drop the test databases).
    static let url = ProcessInfo.processInfo.environment["PALIADIN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// True when the PostgreSQL tests can run.
    static var isConfigured: Bool { url != nil }

    static let logger: Logger = {
        var logger = Logger(label: "paliadin.test.postgres")
        logger.logLevel = .error
        return logger
    }()

    /// Runs `body` with a store on a new, empty database (migrated unless told otherwise) and
    /// the database's URL (for more store objects on it: other "instances"). The store's pool
    /// runs for the duration of `body`; the database is dropped afterwards.
    static func withStore<T>(
        migrated: Bool = true, _ body: (PostgresTurnStore, String) async throws -> T
    ) async throws -> T {
        guard let url, var components = URLComponents(string: url) else {
            throw StoreError.invalidDatabaseURL("PALIADIN_TEST_POSTGRES_URL is not set")
        }
        let name = "paliadin_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        components.path = "/" + name
        guard let databaseURL = components.string else {
            throw StoreError.invalidDatabaseURL("PALIADIN_TEST_POSTGRES_URL cannot be rewritten")
        }
        return try await withRunning(url) { admin in
            try await admin.executeForTesting("CREATE DATABASE \(name)")
            do {
                let result = try await withRunning(databaseURL) { store in
                    if migrated { try await store.migrate() }
                    return try await body(store, databaseURL)
                }
                try await admin.executeForTesting("DROP DATABASE \(name) WITH (FORCE)")
                return result
            } catch {
                try? await admin.executeForTesting("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                throw error
            }
        }
    }

    /// Runs `body` with a store on `url` whose pool runs in a child task, cancelled (which
    /// closes the pool) when `body` ends.
    static func withRunning<T>(_ url: String, poolSize: Int = 4, _ body: (PostgresTurnStore) async throws -> T) async throws -> T {
        let store = try PostgresTurnStore(url: url, poolSize: poolSize, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await store.run() }
            defer { group.cancelAll() }
            return try await body(store)
        }
    }
}
