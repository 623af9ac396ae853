import Foundation
import PaliadinCore
import PaliadinStore

/// The audit log as an operator reads it from a terminal (`paliadin turns`): rows and event
/// logs as JSON with the fields the API gives, a short table, and an export in JSON Lines.
public struct AuditLog: Sendable {
    let store: any TurnStore

    public init(store: any TurnStore) {
        self.store = store
    }

    /// The `limit` most recent turns, newest first.
    public func recent(limit: Int) async throws -> [TurnRecord] {
        try await store.recentTurns(limit: limit)
    }

    /// One turn with its whole event log as one JSON object (the dashboard drill-down's
    /// fields), or nil when there is no such turn.
    public func detail(_ id: TurnID) async throws -> String? {
        guard let record = try await store.turn(id) else { return nil }
        return Self.json(TurnDetailView(record: record, events: try await allEvents(of: id)))
    }

    /// Writes every turn started at or after `since`, oldest first, one JSON object per line
    /// (with its event log when `events` is set), and returns how many there were. Reads in
    /// pages, so an export of any size holds one page in memory.
    @discardableResult
    public func export(since: Date, events: Bool, pageSize: Int = 500, write: (String) async throws -> Void) async throws -> Int {
        var count = 0
        try await store.exportTurns(startedSince: since, pageSize: pageSize) { page in
            for record in page {
                let line =
                    events
                    ? Self.json(TurnDetailView(record: record, events: try await allEvents(of: record.id)))
                    : Self.line(record)
                try await write(line)
                count += 1
            }
        }
        return count
    }

    /// A turn's row as one JSON object (the API's fields).
    public static func line(_ record: TurnRecord) -> String {
        json(TurnView(record))
    }

    /// Turns as a table for people: start, id, status, duration, time to first content,
    /// backend, user and the start of the message.
    public static func table(_ records: [TurnRecord]) -> String {
        var rows = [["started", "turn", "status", "ms", "ttft", "backend", "user", "message"]]
        for record in records {
            let message = record.userMessage.replacingOccurrences(of: "\n", with: " ")
            rows.append([
                TimestampFormat.string(from: record.startedAt), record.id.description,
                record.status.rawValue + (record.errorCode.map { " (\($0))" } ?? ""), record.durationMS.map(String.init) ?? "-",
                record.ttftMS.map(String.init) ?? "-", record.backend, record.userID,
                message.count > 40 ? String(message.prefix(39)) + "…" : message,
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).enumerated().map { index, cell in
                index == row.count - 1 ? cell.0 : cell.0.padding(toLength: cell.1, withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// `--since` as an operator writes it: a day (`2026-12-01`, UTC), an RFC 3339 time, or a
    /// duration back from `now` (`24h`, `7d`, `90m`).
    public static func since(_ text: String, now: Date = Date()) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.count == 10, let day = TimestampFormat.date(from: text + "T00:00:00Z") { return day }
        if let time = TimestampFormat.date(from: text) { return time }
        if text.hasSuffix("d"), let days = Double(text.dropLast()), days >= 0 { return now.addingTimeInterval(-days * 86_400) }
        guard let duration = SettingValue.duration(text) else { return nil }
        let (seconds, attoseconds) = duration.components
        return now.addingTimeInterval(-(Double(seconds) + Double(attoseconds) / 1e18))
    }

    private func allEvents(of id: TurnID) async throws -> [TurnEvent] {
        var events: [TurnEvent] = []
        while true {
            let page = try await store.events(of: id, after: events.last?.seq ?? 0, limit: 1000)
            if page.isEmpty { return events }
            events += page
        }
    }

    private static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The views hold strings, numbers and JSON values only: encoding cannot fail.
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
