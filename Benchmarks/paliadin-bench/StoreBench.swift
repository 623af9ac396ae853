import Foundation
import PaliadinCore
import PaliadinStore

/// Latency of the store operations on the paths of a turn (POST, stream open), alone.
enum StoreBench {
    static func run(iterations: Int) async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-storebench-\(UUID().uuidString)/db.sqlite").path
        let store = try SQLiteTurnStore(path: path)
        try await store.migrate()
        var insert: [Double] = []
        var read: [Double] = []
        var past: [Double] = []
        var events: [Double] = []
        for index in 0..<iterations {
            let record = TurnRecord(
                id: TurnID(), userID: "u", sessionID: "s\(index % 10)", pageOrigin: nil, contextJSON: nil, userMessage: "q",
                startedAt: Date(), backend: "b", model: "m")
            var start = ContinuousClock.now
            _ = try await store.pastExchanges(userID: "u", sessionID: record.sessionID, before: Date(), limit: 20)
            past.append(Bench.ms(start.duration(to: .now)))
            start = .now
            try await store.insertTurn(record)
            insert.append(Bench.ms(start.duration(to: .now)))
            start = .now
            _ = try await store.turn(record.id)
            read.append(Bench.ms(start.duration(to: .now)))
            let batch = (1...20).map { TurnEvent(turnID: record.id, seq: $0, kind: .content, data: #"{"delta":"tok","streamed":true}"#) }
            start = .now
            try await store.appendEvents(batch)
            events.append(Bench.ms(start.duration(to: .now)))
        }
        func line(_ name: String, _ values: [Double]) -> String {
            let summary = Summary(values)
            return "| \(name) | " + [summary.p50, summary.p90, summary.p99].map { String(format: "%.3f", $0) }.joined(separator: " | ") + " |"
        }
        return """
            | SQLite store operation (ms, \(iterations) each) | p50 | p90 | p99 |
            |---|---|---|---|
            \(line("past exchanges of a session (read)", past))
            \(line("insert a turn row (write)", insert))
            \(line("read a turn row", read))
            \(line("append a batch of 20 events (write)", events))
            """
    }
}
