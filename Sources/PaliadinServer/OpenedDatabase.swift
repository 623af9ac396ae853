import Foundation
import Logging
import PaliadinEngine
import PaliadinStore
import ServiceLifecycle

/// The database a server runs on: a SQLite file this process holds alone, or a PostgreSQL
/// database it shares with other instances.
struct OpenedDatabase: Sendable {
    let store: any TurnStore
    /// The shared store, with PostgreSQL.
    let shared: (any SharedTurnStore)?
    /// What must run beside the server (the PostgreSQL connection pool).
    let services: [any Service]
    /// Held for the life of the server, with SQLite: one server per database file.
    private let lock: InstanceLock?

    init(_ configuration: AppConfiguration, logger: Logger) throws {
        if configuration.usesPostgres {
            let postgres = try PostgresTurnStore(url: configuration.databasePath, poolSize: configuration.databasePool, logger: logger)
            store = postgres
            shared = postgres
            services = [postgres]
            lock = nil
        } else {
            store = try SQLiteTurnStore(path: configuration.databasePath)
            shared = nil
            services = []
            lock = try InstanceLock(path: configuration.databasePath + ".lock")
        }
    }

    /// This instance's place among the instances sharing the database, with PostgreSQL.
    func cluster(_ configuration: AppConfiguration) -> ClusterMembership? {
        guard let shared else { return nil }
        let instance = InstanceInfo(
            id: UUID().uuidString.lowercased(), address: "\(ProcessInfo.processInfo.hostName):\(configuration.port)")
        return ClusterMembership(
            store: shared, instance: instance, heartbeatInterval: configuration.heartbeatInterval,
            instanceTimeout: configuration.instanceTimeout)
    }
}
