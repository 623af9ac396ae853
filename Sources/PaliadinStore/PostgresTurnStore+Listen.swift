import PaliadinCore
import PostgresNIO

/// Notifications between instances: PostgreSQL's LISTEN/NOTIFY on a connection of its own.
extension PostgresTurnStore {
    /// The channel of grown logs; payload `"<turn id> <last seq>"`.
    static let eventsChannel = "paliadin_events"
    /// The channel of stop requests; payload `"<turn id>"`.
    static let stopChannel = "paliadin_stop"

    /// Listens on a dedicated connection (not one of the pool's), reconnecting with back-off
    /// (100 ms, doubling up to 2 s) while the server cannot be reached. Returns when the task
    /// is cancelled. Malformed payloads are ignored.
    public func listen(_ handler: @escaping @Sendable (StoreNotification) async -> Void) async throws {
        let configuration = try url.connectionConfiguration()
        let firstDelay = Duration.milliseconds(100)
        var delay = firstDelay
        var failures = 0
        var connectionID = 0
        while !Task.isCancelled {
            connectionID += 1
            var established = false
            var failure: (any Error)?
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: connectionID, logger: logger)
                do {
                    try await session(on: connection, handler: handler) {
                        established = true
                        if failures > 0 { logger.info("listening for notifications again", metadata: ["failures": "\(failures)"]) }
                    }
                } catch {
                    failure = error
                }
                try? await connection.close()
            } catch {
                failure = error
            }
            if Task.isCancelled { return }
            if established {
                delay = firstDelay
                failures = 0
            }
            failures += 1
            if failures == 1 || failures % 30 == 0 {
                let reason = failure.map { String(describing: PostgresErrorMapping.storeError($0)) } ?? "the connection closed"
                logger.warning(
                    "no notification connection to the database; retrying",
                    metadata: ["database": "\(url.redacted)", "error": "\(reason)", "failures": "\(failures)"])
            }
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, .seconds(2))
        }
    }

    /// LISTENs on both channels, says `.listening`, then hands notifications to `handler`
    /// until the connection fails (throws) or the task is cancelled (returns).
    private func session(
        on connection: PostgresConnection, handler: @escaping @Sendable (StoreNotification) async -> Void,
        established: () -> Void
    ) async throws {
        try await connection.listen(on: Self.eventsChannel) { events in
            try await connection.listen(on: Self.stopChannel) { stops in
                established()
                await handler(.listening)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await notification in events {
                            if let parsed = Self.parseEvents(notification.payload) { await handler(parsed) }
                        }
                    }
                    group.addTask {
                        for try await notification in stops {
                            if let id = TurnID(notification.payload) { await handler(.stopRequested(id)) }
                        }
                    }
                    // Either sequence ends only with the connection (or the task): so does the session.
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// `"<turn id> <seq>"`, or nil when the payload is not that.
    static func parseEvents(_ payload: String) -> StoreNotification? {
        let parts = payload.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, let id = TurnID(parts[0]), let seq = Int(parts[1]) else { return nil }
        return .events(id, upTo: seq)
    }
}
