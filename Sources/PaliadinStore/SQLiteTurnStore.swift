import Foundation
import GRDB
import PaliadinCore

/// The embedded store: one SQLite file in WAL mode, nothing to install or start.
public final class SQLiteTurnStore: TurnStore {
    private let pool: DatabasePool
    private let checkpointer: WALCheckpointer

    /// Opens (creating it and its folder if needed) the database at `path`.
    public init(path: String) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "paliadin"
        configuration.prepareDatabase { db in
            // WAL (set by DatabasePool) with NORMAL sync: a committed write survives a crash
            // of the process; only a power loss can take the last transactions.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Checkpoints run in the background (WALCheckpointer), never inside a commit.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            // A small page cache per connection: the hot rows (running turns, recent events)
            // are few, and the operating system caches the file anyway.
            try db.execute(sql: "PRAGMA cache_size = -512")
        }
        configuration.maximumReaderCount = 3
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.checkpointer = try WALCheckpointer(path: path)
    }

    /// Background checkpoints finished so far (for tests).
    public var checkpointsCompleted: Int { checkpointer.checkpointsCompleted }

    /// A write transaction, counted for the background checkpoint.
    private func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let result = try await pool.write(updates)
        checkpointer.noteWrite()
        return result
    }

    public func migrate() async throws {
        try await write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            let current = try Int.fetchOne(db, sql: "SELECT MAX(version) FROM schema_version") ?? 0
            if current > SQLiteSchema.migrations.count {
                throw StoreError.schemaTooNew(found: current, known: SQLiteSchema.migrations.count)
            }
            for (index, statements) in SQLiteSchema.migrations.enumerated() where index + 1 > current {
                for sql in statements { try db.execute(sql: sql) }
                try db.execute(sql: "INSERT INTO schema_version (version) VALUES (?)", arguments: [index + 1])
            }
        }
    }

    public func insertTurn(_ record: TurnRecord) async throws {
        try await write { db in try Self.insert(record, in: db) }
    }

    public func openTurn(_ record: TurnRecord, historyLimit: Int, resumeConversation: Bool) async throws -> SessionPast {
        try await write { db in
            try Self.insert(record, in: db)
            var past = SessionPast()
            if historyLimit > 0 {
                past.exchanges = try Self.pastExchanges(
                    userID: record.userID, sessionID: record.sessionID, before: record.startedAt, limit: historyLimit, in: db)
            }
            if resumeConversation {
                past.conversationID = try String.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT conversation_id FROM turns
                            WHERE user_id = ? AND session_id = ? AND backend = ? AND conversation_id IS NOT NULL AND conversation_id != ''
                                AND started_at >= ? AND started_at < ?
                            ORDER BY started_at DESC, rowid DESC LIMIT 1
                            """),
                    arguments: [
                        record.userID, record.sessionID, record.backend, try Self.resetTime(of: record.userID, in: db),
                        Self.millis(record.startedAt),
                    ])
            }
            return past
        }
    }

    /// When the user last reset their conversations (0: never), in the store's milliseconds.
    private static func resetTime(of userID: String, in db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT reset_at FROM conversation_resets WHERE user_id = ?"), arguments: [userID]) ?? 0
    }

    private static func insert(_ record: TurnRecord, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO turns (id, user_id, session_id, page_origin, context_json, user_message, status,
                    response, started_at, backend, model, used_tools, rows_seen, chip_count, classifier_tag,
                    reader_connects, reader_resumes, streamed)
                VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, '[]', '[]', 0, '', 0, 0, 0)
                """
        ).execute(
            arguments: [
                record.id.description, record.userID, record.sessionID, record.pageOrigin, record.contextJSON,
                record.userMessage, record.status.rawValue, Self.millis(record.startedAt), record.backend, record.model,
            ])
    }

    public func appendEvents(_ events: [TurnEvent]) async throws {
        guard !events.isEmpty else { return }
        try await write { db in
            for event in events { try Self.insert(event, in: db) }
        }
    }

    public func finishTurn(_ id: TurnID, outcome: TurnOutcome, lastEvent: TurnEvent) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE turns SET status = ?, response = ?, error_code = ?, error_message = ?, first_token_at = ?,
                        finished_at = ?, duration_ms = ?, ttft_ms = ?, tokens_in = ?, tokens_out = ?, used_tools = ?,
                        rows_seen = ?, chip_count = ?, classifier_tag = ?, conversation_id = ?, streamed = ?
                    WHERE id = ? AND status = 'running'
                    """,
                arguments: [
                    outcome.status.rawValue, outcome.response, outcome.errorCode, outcome.errorMessage,
                    outcome.firstTokenAt.map(Self.millis), Self.millis(outcome.finishedAt), outcome.durationMS,
                    outcome.ttftMS, outcome.tokensIn, outcome.tokensOut, PayloadCoding.encode(outcome.usedTools),
                    PayloadCoding.encode(outcome.rowsSeen), outcome.chipCount, outcome.classifierTag,
                    outcome.conversationID, outcome.streamed, id.description,
                ])
            guard db.changesCount > 0 else { return false }
            try Self.insert(lastEvent, in: db)
            return true
        }
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func turn(_ id: TurnID) async throws -> TurnRecord? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM turns WHERE id = ?"), arguments: [id.description]).map(Self.record)
        }
    }

    public func events(of id: TurnID, after seq: Int, limit: Int, maxBytes: Int) async throws -> [TurnEvent] {
        try await pool.read { db in
            // A cursor, so the rows past `maxBytes` are never read.
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT seq, kind, data FROM turn_events WHERE turn_id = ? AND seq > ? ORDER BY seq LIMIT ?"),
                arguments: [id.description, seq, limit])
            var page = EventPage(maxBytes: maxBytes)
            while let row = try rows.next() {
                let event = TurnEvent(turnID: id, seq: row["seq"], kind: TurnEventKind(rawValue: row["kind"]) ?? .error, data: row["data"])
                guard page.add(event) else { break }
            }
            return page.events
        }
    }

    public func lastEvent(of id: TurnID) async throws -> TurnEvent? {
        try await pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT seq, kind, data FROM turn_events WHERE turn_id = ? ORDER BY seq DESC LIMIT 1"),
                arguments: [id.description]
            ).map { row in
                TurnEvent(turnID: id, seq: row["seq"], kind: TurnEventKind(rawValue: row["kind"]) ?? .error, data: row["data"])
            }
        }
    }

    public func history(userID: String, sessionID: String, limit: Int) async throws -> [TurnRecord] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT * FROM turns WHERE user_id = ? AND session_id = ?
                        ORDER BY started_at DESC, rowid DESC LIMIT ?) ORDER BY started_at, rowid
                    """,
                arguments: [userID, sessionID, limit]
            ).map(Self.record)
        }
    }

    public func pastExchanges(userID: String, sessionID: String, before: Date, limit: Int) async throws -> [PastExchange] {
        try await pool.read { db in try Self.pastExchanges(userID: userID, sessionID: sessionID, before: before, limit: limit, in: db) }
    }

    private static func pastExchanges(userID: String, sessionID: String, before: Date, limit: Int, in db: Database) throws -> [PastExchange] {
        let resetAt = try resetTime(of: userID, in: db)
        return try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT user_message, response FROM (SELECT user_message, response, started_at, rowid FROM turns
                        WHERE user_id = ? AND session_id = ? AND status = 'completed' AND started_at >= ? AND started_at < ?
                        ORDER BY started_at DESC, rowid DESC LIMIT ?) ORDER BY started_at, rowid
                    """),
            arguments: [userID, sessionID, resetAt, Self.millis(before), limit]
        ).map { PastExchange(userMessage: $0["user_message"], response: $0["response"]) }
    }

    public func recentTurns(limit: Int) async throws -> [TurnRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM turns ORDER BY started_at DESC, rowid DESC LIMIT ?", arguments: [limit])
                .map(Self.record)
        }
    }

    public func exportTurns(startedSince since: Date, pageSize: Int, _ body: ([TurnRecord]) async throws -> Void) async throws {
        // Pages by rowid: with one writer at a time, rowids grow in the order rows are
        // committed, so a page never passes a row that commits later.
        var position: Int64 = 0
        while true {
            let page = try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT rowid AS position, * FROM turns WHERE rowid > ? AND started_at >= ? ORDER BY rowid LIMIT ?",
                    arguments: [position, Self.millis(since), max(1, pageSize)])
            }
            guard let last = page.last?["position"] as Int64? else { return }
            try await body(page.map(Self.record))
            position = last
        }
    }

    public func stats(now: Date) async throws -> TurnStats {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT status, error_code, started_at, duration_ms, ttft_ms, backend, model FROM turns")
            let samples = rows.map { row in
                StatsSample(
                    status: TurnStatus(rawValue: row["status"]) ?? .failed, errorCode: row["error_code"],
                    startedAt: Self.date(row["started_at"]), durationMS: row["duration_ms"], ttftMS: row["ttft_ms"],
                    backend: row["backend"], model: row["model"])
            }
            return StatsSample.aggregate(samples, now: now)
        }
    }

    public func noteReaders(_ counts: [TurnID: ReaderCount]) async throws {
        guard !counts.isEmpty else { return }
        try await write { db in
            for (id, count) in counts {
                try db.execute(
                    sql: "UPDATE turns SET reader_connects = reader_connects + ?, reader_resumes = reader_resumes + ? WHERE id = ?",
                    arguments: [count.connects, count.resumes, id.description])
            }
        }
    }

    public func interruptRunningTurns(at date: Date, message: String) async throws -> [TurnID] {
        try await write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, started_at, first_token_at FROM turns WHERE status = 'running'")
            var closed: [TurnID] = []
            for row in rows {
                guard let id = TurnID(row["id"] as String) else { continue }
                let events = try Row.fetchAll(
                    db, sql: "SELECT seq, kind, data FROM turn_events WHERE turn_id = ? ORDER BY seq", arguments: [id.description])
                let partial = events.reduce(into: "") { text, event in
                    guard (event["kind"] as String) == TurnEventKind.content.rawValue,
                        let payload = try? PayloadCoding.decode(ContentPayload.self, from: event["data"])
                    else { return }
                    text += payload.addedText
                }
                let lastSeq = events.last.map { $0["seq"] as Int } ?? 0
                let startedAt = Self.date(row["started_at"])
                let firstToken: Int64? = row["first_token_at"]
                let error = ErrorPayload(code: TurnErrorCode.interrupted, message: message, retryable: true)
                try db.execute(
                    sql: """
                        UPDATE turns SET status = 'interrupted', response = ?, error_code = ?, error_message = ?,
                            finished_at = ?, duration_ms = ?, ttft_ms = ? WHERE id = ?
                        """,
                    arguments: [
                        partial, error.code, error.message, Self.millis(date), Self.millis(date) - Self.millis(startedAt),
                        firstToken.map { $0 - Self.millis(startedAt) }, id.description,
                    ])
                try Self.insert(TurnEvent(turnID: id, seq: lastSeq + 1, kind: .error, data: PayloadCoding.encode(error)), in: db)
                closed.append(id)
            }
            return closed
        }
    }

    public func resetConversation(userID: String, at date: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO conversation_resets (user_id, reset_at) VALUES (?, ?)
                    ON CONFLICT(user_id) DO UPDATE SET reset_at = excluded.reset_at
                    """,
                arguments: [userID, Self.millis(date)])
        }
    }

    public func insertToken(_ token: StoredToken) async throws {
        try await write { db in
            try db.execute(
                sql: "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [token.id, token.userID, token.hash, token.label, Self.millis(token.createdAt)])
        }
    }

    public func tokenUser(hash: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL"), arguments: [hash])
        }
    }

    public func revokeToken(id: String, at date: Date) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [Self.millis(date), id])
            return db.changesCount > 0
        }
    }

    public func tokens() async throws -> [StoredToken] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_tokens ORDER BY created_at DESC").map { row in
                StoredToken(
                    id: row["id"], userID: row["user_id"], hash: row["token_hash"], label: row["label"],
                    createdAt: Self.date(row["created_at"]), revokedAt: (row["revoked_at"] as Int64?).map(Self.date))
            }
        }
    }

    /// Runs SQLite's own consistency check; "ok" when the file is sound.
    public func integrityCheck() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "" }
    }

    /// Runs a statement directly on the writer connection, outside a transaction (so a
    /// pragma that refuses writes can be turned off again); for tests that need to put the
    /// file or the connection in a given state.
    public func executeForTesting(_ sql: String) async throws {
        try await pool.writeWithoutTransaction { db in try db.execute(sql: sql) }
    }

    // MARK: - Row mapping

    /// Inserts an event with a prepared statement the connection keeps (token streams write many).
    private static func insert(_ event: TurnEvent, in db: Database) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO turn_events (turn_id, seq, kind, data) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [event.turnID.description, event.seq, event.kind.rawValue, event.data])
    }

    private static func record(_ row: Row) -> TurnRecord {
        var record = TurnRecord(
            id: TurnID(row["id"] as String) ?? TurnID(), userID: row["user_id"], sessionID: row["session_id"],
            pageOrigin: row["page_origin"], contextJSON: row["context_json"], userMessage: row["user_message"],
            startedAt: date(row["started_at"]), backend: row["backend"], model: row["model"])
        record.status = TurnStatus(rawValue: row["status"]) ?? .failed
        record.response = row["response"]
        record.errorCode = row["error_code"]
        record.errorMessage = row["error_message"]
        record.firstTokenAt = (row["first_token_at"] as Int64?).map(date)
        record.finishedAt = (row["finished_at"] as Int64?).map(date)
        record.durationMS = row["duration_ms"]
        record.ttftMS = row["ttft_ms"]
        record.tokensIn = row["tokens_in"]
        record.tokensOut = row["tokens_out"]
        record.usedTools = (try? PayloadCoding.decode([String].self, from: row["used_tools"])) ?? []
        record.rowsSeen = (try? PayloadCoding.decode([Int].self, from: row["rows_seen"])) ?? []
        record.chipCount = row["chip_count"]
        record.classifierTag = row["classifier_tag"]
        record.conversationID = row["conversation_id"]
        record.readerConnects = row["reader_connects"]
        record.readerResumes = row["reader_resumes"]
        record.streamed = row["streamed"]
        return record
    }

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }
}
