import Foundation
import Logging
import PaliadinCore
import PostgresNIO
import ServiceLifecycle

/// The store for production and for several instances: one PostgreSQL database that every
/// instance shares.
///
/// It is a `Service`: its `run()` runs the connection pool, and no query can be made (each
/// would wait) unless `run()` is running, so run it in a `ServiceGroup` (or a task of its own)
/// before `migrate()` and the rest. Cancelling `run()` (or a graceful shutdown of its group)
/// closes the pool. `listen(_:)` uses a connection of its own, outside the pool.
///
/// Its `TurnStore` methods behave as the SQLite store's: same ordering, same limits, times
/// kept at the millisecond. Events reach the log only while their turn is `running`, and
/// every write that grows a log notifies the `paliadin_events` channel.
public final class PostgresTurnStore: SharedTurnStore, Service {
    /// The newest schema version this Paliadin knows; `migrate()` refuses a newer database.
    public static var knownSchemaVersion: Int { PostgresSchema.knownVersion }

    let client: PostgresClient
    let url: PostgresURL
    let logger: Logger

    /// Parses the URL (see `PostgresURL`: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=...]`)
    /// and prepares a pool of at most `poolSize` connections (at least 1). Connects to nothing
    /// until `run()` runs; throws `StoreError.invalidDatabaseURL` for a URL it cannot use.
    public init(url: String, poolSize: Int = 16, logger: Logger) throws {
        let parsed = try PostgresURL(url)
        self.url = parsed
        self.logger = logger
        self.client = PostgresClient(
            configuration: parsed.clientConfiguration(poolSize: max(1, poolSize)), backgroundLogger: logger)
    }

    /// Where the store connects, without the password (for logs).
    public var redactedURL: String { url.redacted }

    /// Checks a database URL without connecting, and returns it without its password (for
    /// messages and `paliadin config check`); the error says what is wrong.
    public static func checkURL(_ url: String) throws(StoreError) -> String {
        try PostgresURL(url).redacted
    }

    /// Runs the connection pool until the task is cancelled or a graceful shutdown begins.
    public func run() async throws {
        await client.run()
    }

    // MARK: - Schema

    public func migrate() async throws {
        try await transaction { connection in
            // Instances starting together migrate one after the other; the later ones find
            // the schema up to date.
            try await Self.fetch("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLock))", on: connection, logger)
            try await Self.fetch("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", on: connection, logger)
            let current = try await Self.fetch("SELECT COALESCE(MAX(version), 0) FROM schema_version", on: connection, logger)
                .first?.decode(Int.self) ?? 0
            guard current <= PostgresSchema.knownVersion else {
                throw StoreError.schemaTooNew(found: current, known: PostgresSchema.knownVersion)
            }
            for (index, statements) in PostgresSchema.migrations.enumerated() where index + 1 > current {
                for sql in statements { try await Self.fetch(PostgresQuery(unsafeSQL: sql), on: connection, logger) }
                try await Self.fetch("INSERT INTO schema_version (version) VALUES (\(index + 1))", on: connection, logger)
            }
        }
    }

    /// The database's schema version (0 before the first `migrate()`).
    public func schemaVersion() async throws -> Int {
        let exists = try await rows("SELECT to_regclass('schema_version') IS NOT NULL") { try $0.decode(Bool.self) }.first ?? false
        guard exists else { return 0 }
        return try await rows("SELECT COALESCE(MAX(version), 0) FROM schema_version") { try $0.decode(Int.self) }.first ?? 0
    }

    // MARK: - Turns

    public func insertTurn(_ record: TurnRecord) async throws {
        try await rows(
            """
            INSERT INTO turns (\(unescaped: Self.insertedColumns))
            VALUES (\(record.id.description), \(record.userID), \(record.sessionID), \(record.pageOrigin), \(record.contextJSON),
                \(record.userMessage), \(record.status.rawValue), \(PostgresRowMapping.millis(record.startedAt)), \(record.backend),
                \(record.model), \(record.instanceID))
            """)
    }

    /// The columns a new turn row gets from its record (the others start at their defaults).
    private static let insertedColumns = """
        id, user_id, session_id, page_origin, context_json, user_message, status, started_at, backend, model, instance_id
        """

    public func openTurn(_ record: TurnRecord, historyLimit: Int, resumeConversation: Bool) async throws -> SessionPast {
        // One statement: the row is written and the session's past read in one trip, in one
        // transaction. The reads do not see the new row (same snapshot), which would not
        // qualify anyway: only turns started before it do.
        var past = SessionPast()
        let statement = PostgresHotStatements.OpenTurn(record: record, historyLimit: historyLimit, resumeConversation: resumeConversation)
        for (isConversation, text, response, _, _) in try await execute(statement) {
            if isConversation {
                past.conversationID = text
            } else {
                past.exchanges.append(PastExchange(userMessage: text, response: response ?? ""))
            }
        }
        return past
    }

    public func appendEvents(_ events: [TurnEvent]) async throws {
        guard !events.isEmpty else { return }
        // One statement per batch. The key-share lock on each turn row makes a janitor that
        // closes the turn (it locks the row `FOR UPDATE` before it reads the log) either wait
        // for this batch or make this batch find the turn closed: no event slips in between.
        // Events of a turn no longer running are dropped (someone closed it).
        try await execute(PostgresHotStatements.AppendEvents(events: events))
    }

    public func finishTurn(_ id: TurnID, outcome: TurnOutcome, lastEvent: TurnEvent) async throws -> Bool {
        // One statement, so one transaction: the row closes only if it is still running, and
        // its last event goes in (and is announced) only then.
        try await !execute(PostgresHotStatements.FinishTurn(id: id, outcome: outcome, lastEvent: lastEvent)).isEmpty
    }

    public func turn(_ id: TurnID) async throws -> TurnRecord? {
        try await rows(
            "SELECT \(unescaped: PostgresRowMapping.turnColumns) FROM turns WHERE id = \(id.description)", PostgresRowMapping.record
        ).first
    }

    public func events(of id: TurnID, after seq: Int, limit: Int, maxBytes: Int) async throws -> [TurnEvent] {
        let query: PostgresQuery = """
            SELECT seq, kind, data FROM turn_events WHERE turn_id = \(id.description) AND seq > \(seq)
            ORDER BY seq LIMIT \(Self.limit(limit))
            """
        do {
            // Rows are taken as they arrive: those past `maxBytes` are dropped, not kept.
            var page = EventPage(maxBytes: maxBytes)
            for try await row in try await client.query(query, logger: logger) {
                guard page.add(try PostgresRowMapping.event(of: id, row)) else { break }
            }
            return page.events
        } catch {
            throw PostgresErrorMapping.storeError(error)
        }
    }

    public func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    public func lastEvent(of id: TurnID) async throws -> TurnEvent? {
        try await rows("SELECT seq, kind, data FROM turn_events WHERE turn_id = \(id.description) ORDER BY seq DESC LIMIT 1") {
            try PostgresRowMapping.event(of: id, $0)
        }.first
    }

    public func history(userID: String, sessionID: String, limit: Int) async throws -> [TurnRecord] {
        try await rows(
            """
            SELECT \(unescaped: PostgresRowMapping.turnColumns) FROM (
                SELECT * FROM turns WHERE user_id = \(userID) AND session_id = \(sessionID)
                ORDER BY started_at DESC, row_no DESC LIMIT \(Self.limit(limit))
            ) latest ORDER BY started_at, row_no
            """, PostgresRowMapping.record)
    }

    public func pastExchanges(userID: String, sessionID: String, before: Date, limit: Int) async throws -> [PastExchange] {
        try await rows(
            """
            SELECT user_message, response FROM (
                SELECT user_message, response, started_at, row_no FROM turns
                WHERE user_id = \(userID) AND session_id = \(sessionID) AND status = 'completed'
                    AND started_at >= COALESCE(
                        (SELECT reset_at FROM conversation_resets WHERE user_id = \(userID)), '-infinity'::timestamptz)
                    AND started_at < \(PostgresRowMapping.millis(before))
                ORDER BY started_at DESC, row_no DESC LIMIT \(Self.limit(limit))
            ) latest ORDER BY started_at, row_no
            """
        ) { row in
            let (message, response) = try row.decode((String, String).self)
            return PastExchange(userMessage: message, response: response)
        }
    }

    public func recentTurns(limit: Int) async throws -> [TurnRecord] {
        try await rows(
            """
            SELECT \(unescaped: PostgresRowMapping.turnColumns) FROM turns
            ORDER BY started_at DESC, row_no DESC LIMIT \(Self.limit(limit))
            """, PostgresRowMapping.record)
    }

    public func exportTurns(startedSince since: Date, pageSize: Int, _ body: ([TurnRecord]) async throws -> Void) async throws {
        // One snapshot (repeatable read) through a cursor on the turns_by_start index: pages
        // come off one scan, and no row committed meanwhile can fall between two of them.
        // The time is our own Date in RFC 3339 and the size a number: safe to write inline
        // (a cursor's query takes no bind parameters).
        let from = TimestampFormat.string(from: since)
        let size = String(max(1, pageSize))
        try await transaction { connection in
            try await Self.fetch("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", on: connection, logger)
            try await Self.fetch(
                """
                DECLARE turns_export NO SCROLL CURSOR FOR
                SELECT \(unescaped: PostgresRowMapping.turnColumns) FROM turns
                WHERE started_at >= '\(unescaped: from)'::timestamptz ORDER BY started_at, row_no
                """, on: connection, logger)
            while true {
                let rows = try await Self.fetch("FETCH \(unescaped: size) FROM turns_export", on: connection, logger)
                if rows.isEmpty { return }
                try await body(try rows.map(PostgresRowMapping.record))
            }
        }
    }

    public func stats(now: Date) async throws -> TurnStats {
        let samples = try await rows("SELECT status, error_code, started_at, duration_ms, ttft_ms, backend, model FROM turns") { row in
            let (status, errorCode, startedAt, durationMS, ttftMS, backend, model) = try row.decode(
                (String, String?, Date, Int?, Int?, String, String).self)
            return StatsSample(
                status: TurnStatus(rawValue: status) ?? .failed, errorCode: errorCode,
                startedAt: PostgresRowMapping.millis(startedAt), durationMS: durationMS, ttftMS: ttftMS, backend: backend,
                model: model)
        }
        return StatsSample.aggregate(samples, now: now)
    }

    public func noteReaders(_ counts: [TurnID: ReaderCount]) async throws {
        guard !counts.isEmpty else { return }
        let entries = Array(counts)
        try await rows(
            """
            UPDATE turns SET reader_connects = reader_connects + u.connects, reader_resumes = reader_resumes + u.resumes
            FROM unnest(\(entries.map(\.key.description)), \(entries.map(\.value.connects)), \(entries.map(\.value.resumes)))
                AS u(id, connects, resumes)
            WHERE turns.id = u.id
            """)
    }

    /// Closes every running turn, of every instance, as `interrupted` (as the SQLite store
    /// does). With instances sharing the database, use `interruptTurnsOfDeadInstances` instead:
    /// this one would also close the turns the other instances are running.
    public func interruptRunningTurns(at date: Date, message: String) async throws -> [TurnID] {
        try await interruptTurns(ofInstancesSilentFor: nil, finishedAt: date, message: message)
    }

    // MARK: - Conversations and tokens

    public func resetConversation(userID: String, at date: Date) async throws {
        try await rows(
            """
            INSERT INTO conversation_resets (user_id, reset_at) VALUES (\(userID), \(PostgresRowMapping.millis(date)))
            ON CONFLICT (user_id) DO UPDATE SET reset_at = excluded.reset_at
            """)
    }

    public func insertToken(_ token: StoredToken) async throws {
        try await rows(
            """
            INSERT INTO api_tokens (id, user_id, token_hash, label, created_at)
            VALUES (\(token.id), \(token.userID), \(token.hash), \(token.label), \(PostgresRowMapping.millis(token.createdAt)))
            """)
    }

    public func tokenUser(hash: String) async throws -> String? {
        try await rows("SELECT user_id FROM api_tokens WHERE token_hash = \(hash) AND revoked_at IS NULL") {
            try $0.decode(String.self)
        }.first
    }

    public func revokeToken(id: String, at date: Date) async throws -> Bool {
        try await !rows(
            """
            UPDATE api_tokens SET revoked_at = \(PostgresRowMapping.millis(date)) WHERE id = \(id) AND revoked_at IS NULL
            RETURNING id
            """
        ).isEmpty
    }

    public func tokens() async throws -> [StoredToken] {
        try await rows("SELECT id, user_id, token_hash, label, created_at, revoked_at FROM api_tokens ORDER BY created_at DESC") { row in
            let (id, userID, hash, label, createdAt, revokedAt) = try row.decode((String, String, String, String, Date, Date?).self)
            return StoredToken(
                id: id, userID: userID, hash: hash, label: label, createdAt: PostgresRowMapping.millis(createdAt),
                revokedAt: revokedAt.map(PostgresRowMapping.millis))
        }
    }

    /// Runs a statement directly; for tests that need to put the database in a given state.
    public func executeForTesting(_ sql: String) async throws {
        try await rows(PostgresQuery(unsafeSQL: sql))
    }
}
