import Foundation
import PaliadinCore
import PostgresNIO

/// What instances sharing the database tell each other: who is alive, which turns to stop,
/// and which turns of dead instances to close.
extension PostgresTurnStore {
    public func heartbeat(_ instance: InstanceInfo) async throws {
        try await rows(
            """
            INSERT INTO instances (id, address, heartbeat_at) VALUES (\(instance.id), \(instance.address), now())
            ON CONFLICT (id) DO UPDATE SET address = excluded.address, heartbeat_at = now()
            """)
    }

    public func removeInstance(id: String) async throws {
        try await rows("DELETE FROM instances WHERE id = \(id)")
    }

    public func interruptTurnsOfDeadInstances(staleAfter: Duration, message: String) async throws -> [TurnID] {
        try await interruptTurns(ofInstancesSilentFor: staleAfter, finishedAt: nil, message: message)
    }

    public func requestStop(of id: TurnID) async throws -> Bool {
        try await !rows(
            """
            WITH marked AS (
                UPDATE turns SET stop_requested = true WHERE id = \(id.description) AND status = 'running' RETURNING id
            )
            SELECT pg_notify('paliadin_stop', id) FROM marked
            """
        ).isEmpty
    }

    public func turnsToStop(among ids: [TurnID]) async throws -> [TurnID] {
        guard !ids.isEmpty else { return [] }
        let stop = Set(
            try await rows(
                """
                SELECT u.id FROM unnest(\(ids.map(\.description))) AS u(id) LEFT JOIN turns t ON t.id = u.id
                WHERE t.id IS NULL OR t.stop_requested OR t.status <> 'running'
                """
            ) { try $0.decode(String.self) })
        return ids.filter { stop.contains($0.description) }
    }

    /// Closes running turns as `interrupted`, keeping the text of their logs, with an `error`
    /// event at the end of each log (announced on `paliadin_events`), in one transaction.
    ///
    /// - Parameters:
    ///   - staleAfter: when set, only the turns of instances silent this long (or without a
    ///     row, or of no instance), skipping rows another transaction holds (another janitor
    ///     closing them, or an event batch going in: the next round gets them); those
    ///     instances' rows are then removed. When `nil`, every running turn, waiting for locks.
    ///   - finishedAt: the closing time; `nil` for the database's clock.
    func interruptTurns(ofInstancesSilentFor staleAfter: Duration?, finishedAt: Date?, message: String) async throws -> [TurnID] {
        let staleSeconds = staleAfter.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        let finished = finishedAt.map(PostgresRowMapping.millis)
        let error = ErrorPayload(code: TurnErrorCode.interrupted, message: message, retryable: true)
        return try await transaction { connection in
            // The row lock comes before the log is read: an event batch (which key-share locks
            // the row) cannot add to the log between the read and the close.
            let ids = try await Self.fetch(
                """
                SELECT id FROM turns t
                WHERE status = 'running' AND (\(staleSeconds)::float8 IS NULL OR instance_id IS NULL OR NOT EXISTS (
                    SELECT 1 FROM instances i
                    WHERE i.id = t.instance_id AND i.heartbeat_at >= now() - make_interval(secs => \(staleSeconds)::float8)))
                ORDER BY started_at, row_no
                FOR UPDATE \(unescaped: staleAfter == nil ? "" : "SKIP LOCKED")
                """, on: connection, logger
            ).map { try $0.decode(String.self) }
            if !ids.isEmpty {
                var partial: [String: String] = [:]
                var lastSeq: [String: Int] = [:]
                for row in try await Self.fetch(
                    "SELECT turn_id, seq, kind, data FROM turn_events WHERE turn_id = ANY(\(ids)) ORDER BY turn_id, seq",
                    on: connection, logger)
                {
                    let (turnID, seq, kind, data) = try row.decode((String, Int, String, String).self)
                    lastSeq[turnID] = seq
                    guard kind == TurnEventKind.content.rawValue,
                        let payload = try? PayloadCoding.decode(ContentPayload.self, from: data)
                    else { continue }
                    partial[turnID, default: ""] += payload.addedText
                }
                let errorData = PayloadCoding.encode(error)
                let seqs = ids.map { (lastSeq[$0] ?? 0) + 1 }
                try await Self.fetch(
                    """
                    WITH closed AS (
                        UPDATE turns SET status = 'interrupted', response = u.response, error_code = \(error.code),
                            error_message = \(error.message),
                            finished_at = COALESCE(\(finished)::timestamptz, date_trunc('milliseconds', now())),
                            duration_ms = round(extract(epoch FROM
                                COALESCE(\(finished)::timestamptz, date_trunc('milliseconds', now())) - started_at) * 1000),
                            ttft_ms = round(extract(epoch FROM first_token_at - started_at) * 1000)
                        FROM unnest(\(ids), \(ids.map { partial[$0] ?? "" })) AS u(id, response)
                        WHERE turns.id = u.id
                    ),
                    ins AS (
                        INSERT INTO turn_events (turn_id, seq, kind, data)
                        SELECT e.turn_id, e.seq, \(TurnEventKind.error.rawValue), \(errorData)
                        FROM unnest(\(ids), \(seqs)) AS e(turn_id, seq)
                        RETURNING turn_id, seq
                    )
                    SELECT pg_notify('paliadin_events', turn_id || ' ' || seq) FROM ins
                    """, on: connection, logger)
            }
            if staleSeconds != nil {
                try await Self.fetch(
                    "DELETE FROM instances WHERE heartbeat_at < now() - make_interval(secs => \(staleSeconds)::float8)",
                    on: connection, logger)
            }
            return ids.compactMap { TurnID($0) }
        }
    }
}
