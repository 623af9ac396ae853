import Foundation
import PaliadinCore
import PostgresNIO

/// Turns PostgreSQL rows into the store's values, and dates into what the store writes.
enum PostgresRowMapping {
    /// The columns of a turn row, in the order `record(_:)` reads them.
    static let turnColumns = """
        id, user_id, session_id, page_origin, context_json, user_message, status, response, error_code,
        error_message, started_at, first_token_at, finished_at, duration_ms, ttft_ms, backend, model, tokens_in,
        tokens_out, used_tools, rows_seen, chip_count, classifier_tag, conversation_id, reader_connects,
        reader_resumes, streamed, instance_id
        """

    static func record(_ row: PostgresRow) throws -> TurnRecord {
        let columns = row.makeRandomAccess()
        func value<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
            try columns[name].decode(T.self)
        }
        var record = TurnRecord(
            id: TurnID(try value("id", as: String.self)) ?? TurnID(), userID: try value("user_id"),
            sessionID: try value("session_id"), pageOrigin: try value("page_origin"), contextJSON: try value("context_json"),
            userMessage: try value("user_message"), startedAt: millis(try value("started_at")), backend: try value("backend"),
            model: try value("model"))
        record.status = TurnStatus(rawValue: try value("status")) ?? .failed
        record.response = try value("response")
        record.errorCode = try value("error_code")
        record.errorMessage = try value("error_message")
        record.firstTokenAt = try value("first_token_at", as: Date?.self).map(millis)
        record.finishedAt = try value("finished_at", as: Date?.self).map(millis)
        record.durationMS = try value("duration_ms")
        record.ttftMS = try value("ttft_ms")
        record.tokensIn = try value("tokens_in")
        record.tokensOut = try value("tokens_out")
        record.usedTools = (try? PayloadCoding.decode([String].self, from: try value("used_tools"))) ?? []
        record.rowsSeen = (try? PayloadCoding.decode([Int].self, from: try value("rows_seen"))) ?? []
        record.chipCount = try value("chip_count")
        record.classifierTag = try value("classifier_tag")
        record.conversationID = try value("conversation_id")
        record.readerConnects = try value("reader_connects")
        record.readerResumes = try value("reader_resumes")
        record.streamed = try value("streamed")
        record.instanceID = try value("instance_id")
        return record
    }

    /// An event row of `SELECT seq, kind, data`.
    static func event(of id: TurnID, _ row: PostgresRow) throws -> TurnEvent {
        let (seq, kind, data) = try row.decode((Int, String, String).self)
        return TurnEvent(turnID: id, seq: seq, kind: TurnEventKind(rawValue: kind) ?? .error, data: data)
    }

    /// A date at the millisecond, as the stores keep times (PostgreSQL would keep microseconds):
    /// what is written reads back equal, and equal to what the SQLite store gives.
    static func millis(_ date: Date) -> Date {
        Date(timeIntervalSince1970: Double(Int64((date.timeIntervalSince1970 * 1000).rounded())) / 1000)
    }
}
