import Foundation
import PaliadinCore
import PostgresNIO

/// The statements every turn runs, prepared once per connection: PostgreSQL then skips
/// parsing them, and their plans are cached, which was about two thirds of their cost.
enum PostgresHotStatements {
    /// Writes a new turn row and reads what it needs of its session's past (see `openTurn`).
    struct OpenTurn: PostgresPreparedStatement {
        typealias Row = (Bool, String, String?, Date?, Int?)
        static let name = "paliadin_open_turn_v1"
        static let sql = """
            WITH new_turn AS (
                INSERT INTO turns (id, user_id, session_id, page_origin, context_json, user_message, status, started_at,
                    backend, model, instance_id)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ),
            reset AS (
                SELECT COALESCE((SELECT reset_at FROM conversation_resets WHERE user_id = $2), '-infinity'::timestamptz) AS at
            ),
            exchanges AS (
                SELECT user_message, response, started_at, row_no FROM turns, reset
                WHERE user_id = $2 AND session_id = $3 AND status = 'completed' AND started_at >= reset.at AND started_at < $8
                ORDER BY started_at DESC, row_no DESC LIMIT $12
            ),
            conversation AS (
                SELECT conversation_id FROM turns, reset
                WHERE $13 AND user_id = $2 AND session_id = $3 AND backend = $9 AND conversation_id IS NOT NULL
                    AND conversation_id <> '' AND started_at >= reset.at AND started_at < $8
                ORDER BY started_at DESC, row_no DESC LIMIT 1
            )
            SELECT false AS is_conversation, user_message AS text, response, started_at, row_no FROM exchanges
            UNION ALL
            SELECT true, conversation_id, NULL, NULL, NULL FROM conversation
            ORDER BY is_conversation, started_at, row_no
            """

        var record: TurnRecord
        var historyLimit: Int
        var resumeConversation: Bool

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 13)
            bindings.append(record.id.description)
            bindings.append(record.userID)
            bindings.append(record.sessionID)
            bindings.append(record.pageOrigin)
            bindings.append(record.contextJSON)
            bindings.append(record.userMessage)
            bindings.append(record.status.rawValue)
            bindings.append(PostgresRowMapping.millis(record.startedAt))
            bindings.append(record.backend)
            bindings.append(record.model)
            bindings.append(record.instanceID)
            bindings.append(max(0, historyLimit))
            bindings.append(resumeConversation)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Appends a batch of events to the logs of turns still running, and announces them (see `appendEvents`).
    struct AppendEvents: PostgresPreparedStatement {
        typealias Row = Void
        static let name = "paliadin_append_events_v1"
        static let sql = """
            WITH ins AS (
                INSERT INTO turn_events (turn_id, seq, kind, data)
                SELECT u.turn_id, u.seq, u.kind, u.data
                FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[]) AS u(turn_id, seq, kind, data)
                JOIN turns t ON t.id = u.turn_id AND t.status = 'running'
                FOR KEY SHARE OF t
                RETURNING turn_id, seq
            )
            SELECT pg_notify('paliadin_events', turn_id || ' ' || max(seq)) FROM ins GROUP BY turn_id
            """

        var events: [TurnEvent]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(events.map(\.turnID.description))
            bindings.append(events.map(\.seq))
            bindings.append(events.map(\.kind.rawValue))
            bindings.append(events.map(\.data))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }

    /// Closes a running turn with its last event, and announces it (see `finishTurn`). One row
    /// when it closed the turn, none when the turn was already closed.
    struct FinishTurn: PostgresPreparedStatement {
        typealias Row = Void
        static let name = "paliadin_finish_turn_v1"
        static let sql = """
            WITH closed AS (
                UPDATE turns SET status = $1, response = $2, error_code = $3, error_message = $4, first_token_at = $5,
                    finished_at = $6, duration_ms = $7, ttft_ms = $8, tokens_in = $9, tokens_out = $10, used_tools = $11,
                    rows_seen = $12, chip_count = $13, classifier_tag = $14, conversation_id = $15, streamed = $16
                WHERE id = $17 AND status = 'running'
                RETURNING id
            ),
            ins AS (
                INSERT INTO turn_events (turn_id, seq, kind, data)
                SELECT $17, $18, $19, $20 FROM closed
                RETURNING turn_id, seq
            )
            SELECT pg_notify('paliadin_events', turn_id || ' ' || seq) FROM ins
            """

        var id: TurnID
        var outcome: TurnOutcome
        var lastEvent: TurnEvent

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 20)
            bindings.append(outcome.status.rawValue)
            bindings.append(outcome.response)
            bindings.append(outcome.errorCode)
            bindings.append(outcome.errorMessage)
            bindings.append(outcome.firstTokenAt.map(PostgresRowMapping.millis))
            bindings.append(PostgresRowMapping.millis(outcome.finishedAt))
            bindings.append(outcome.durationMS)
            bindings.append(outcome.ttftMS)
            bindings.append(outcome.tokensIn)
            bindings.append(outcome.tokensOut)
            bindings.append(PayloadCoding.encode(outcome.usedTools))
            bindings.append(PayloadCoding.encode(outcome.rowsSeen))
            bindings.append(outcome.chipCount)
            bindings.append(outcome.classifierTag)
            bindings.append(outcome.conversationID)
            bindings.append(outcome.streamed)
            bindings.append(id.description)
            bindings.append(lastEvent.seq)
            bindings.append(lastEvent.kind.rawValue)
            bindings.append(lastEvent.data)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }
}
