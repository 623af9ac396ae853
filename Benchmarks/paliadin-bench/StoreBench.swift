import Foundation
import PaliadinCore
import PaliadinStore

/// Latency of the SQLite store's operations on the paths of a turn (POST, stream open), alone.
enum StoreBench {
    /// One operation's latencies (ms).
    struct Row: Codable, Sendable {
        var operation: String
        var latency: Summary
    }

    struct Result: Codable, Sendable {
        var iterations: Int
        var rows: [Row]
    }

    static func run(iterations: Int) async throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-storebench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteTurnStore(path: folder.appendingPathComponent("db.sqlite").path)
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
            past.append(BenchClock.ms(start.duration(to: .now)))
            start = .now
            try await store.insertTurn(record)
            insert.append(BenchClock.ms(start.duration(to: .now)))
            start = .now
            _ = try await store.turn(record.id)
            read.append(BenchClock.ms(start.duration(to: .now)))
            let batch = (1...20).map { TurnEvent(turnID: record.id, seq: $0, kind: .content, data: #"{"delta":"tok","streamed":true}"#) }
            start = .now
            try await store.appendEvents(batch)
            events.append(BenchClock.ms(start.duration(to: .now)))
        }
        return Result(
            iterations: iterations,
            rows: [
                Row(operation: "past exchanges of a session (read)", latency: Summary(past)),
                Row(operation: "insert a turn row (write)", latency: Summary(insert)),
                Row(operation: "read a turn row", latency: Summary(read)),
                Row(operation: "append a batch of 20 events (write)", latency: Summary(events)),
            ])
    }
}
