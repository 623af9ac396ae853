import Logging
import PostgresNIO

/// How the store talks to PostgreSQL: single statements on a pooled connection, and
/// transactions that keep the errors thrown inside them as they are.
extension PostgresTurnStore {
    /// Runs one statement on a pooled connection and returns its rows; errors are made readable.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        do {
            return try await client.query(query, logger: logger).collect()
        } catch {
            throw PostgresErrorMapping.storeError(error)
        }
    }

    /// Runs a prepared statement (prepared on each pooled connection the first time it runs
    /// there) and returns its rows; errors are made readable.
    @discardableResult
    func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
        do {
            var rows: [Statement.Row] = []
            for try await row in try await client.execute(statement, logger: logger) { rows.append(row) }
            return rows
        } catch {
            throw PostgresErrorMapping.storeError(error)
        }
    }

    /// Runs one statement on a pooled connection and returns its rows as `transform` reads
    /// them; errors, those of decoding included, are made readable.
    func rows<T>(_ query: PostgresQuery, _ transform: (PostgresRow) throws -> T) async throws -> [T] {
        let rows = try await rows(query)
        do {
            return try rows.map(transform)
        } catch {
            throw PostgresErrorMapping.storeError(error)
        }
    }

    /// Runs `body` in a transaction on one pooled connection: committed when it returns,
    /// rolled back when it throws (its error is rethrown unchanged, or made readable when it
    /// comes from PostgresNIO).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let logger = logger
        do {
            return try await client.withConnection { connection in
                try await Self.fetch("BEGIN", on: connection, logger)
                do {
                    let value = try await body(connection)
                    try await Self.fetch("COMMIT", on: connection, logger)
                    return value
                } catch {
                    // A failed rollback leaves nothing to undo: the server drops the
                    // transaction with the connection.
                    _ = try? await Self.fetch("ROLLBACK", on: connection, logger)
                    throw error
                }
            }
        } catch {
            throw PostgresErrorMapping.storeError(error)
        }
    }

    /// Runs one statement on a connection (inside a transaction) and returns its rows.
    @discardableResult
    static func fetch(_ query: PostgresQuery, on connection: PostgresConnection, _ logger: Logger) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// A `LIMIT` value: a negative limit means none, as in SQLite (`LIMIT NULL` is `LIMIT ALL`).
    static func limit(_ limit: Int) -> Int? {
        limit < 0 ? nil : limit
    }
}
