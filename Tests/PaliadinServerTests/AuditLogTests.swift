import Foundation
import PaliadinCore
import PaliadinServer
import PaliadinTestSupport
import Synchronization
import Testing

@Suite("The audit log from the command line, and turn log lines")
struct AuditLogTests {
    @Test("export since a time: one JSON object per turn, in the order written, with the event logs when asked")
    func export() async throws {
        try await TestHarness.withLiveServer { harness, client in
            var ids: [String] = []
            for index in 1...3 {
                let id = try await client.startTurn("mock:chunks=\(index)")
                _ = try await client.stream(id)
                _ = try await client.waitUntilFinished(id)
                ids.append(id)
            }
            let log = AuditLog(store: harness.store)
            let lines = Mutex<[String]>([])
            let count = try await log.export(since: Date().addingTimeInterval(-600), events: true, pageSize: 2) { line in
                lines.withLock { $0.append(line) }
            }
            #expect(count == 3)
            let objects = try lines.withLock { $0 }.map { line in
                #expect(!line.contains("\n"))
                return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            #expect(objects.map { $0["turn_id"] as? String } == ids)
            #expect(objects.map { $0["status"] as? String } == ["completed", "completed", "completed"])
            let events = try #require(objects.last?["events"] as? [[String: Any]])
            #expect(events.first?["event"] as? String == "meta")
            #expect(events.last?["event"] as? String == "end")
            let deltas = events.filter { $0["event"] as? String == "content" }.compactMap { ($0["data"] as? [String: Any])?["delta"] as? String }
            #expect(deltas.joined() == objects.last?["response"] as? String)
            #expect(deltas.joined() == "t1 t2 t3 ")

            // Nothing started after now; rows alone without events.
            #expect(try await log.export(since: Date().addingTimeInterval(60), events: false) { _ in } == 0)
            let rowsOnly = Mutex<[String]>([])
            try await log.export(since: .distantPast, events: false) { line in rowsOnly.withLock { $0.append(line) } }
            #expect(rowsOnly.withLock { $0 }.allSatisfy { !$0.contains("\"events\"") })

            let firstID = try #require(TurnID(ids[0]))
            let detail = try #require(try await log.detail(firstID))
            #expect(detail.contains("\"events\":[") && detail.contains(ids[0]))
            #expect(try await log.detail(TurnID()) == nil)
            let table = AuditLog.table(try await log.recent(limit: 10))
            #expect(table.split(separator: "\n").count == 4)
            #expect(table.hasPrefix("started"))
        }
    }

    @Test("--since takes a day, a time or a duration back from now")
    func since() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(AuditLog.since("2026-12-01", now: now) == TimestampFormat.date(from: "2026-12-01T00:00:00Z"))
        #expect(AuditLog.since("2026-12-01T10:30:00Z", now: now) == TimestampFormat.date(from: "2026-12-01T10:30:00Z"))
        #expect(AuditLog.since("24h", now: now) == now.addingTimeInterval(-86_400))
        #expect(AuditLog.since("7d", now: now) == now.addingTimeInterval(-7 * 86_400))
        #expect(AuditLog.since("yesterday", now: now) == nil)
    }

    @Test("the turn's log line carries its message and answer only when configured")
    func messageText() async throws {
        for logsText in [false, true] {
            let captured = CapturedLog()
            try await TestHarness.withLiveServer(
                configure: { $0.engine.logsMessageText = logsText }, logger: captured.logger(level: .info)
            ) { _, client in
                let id = try await client.startTurn("secret words mock:chunks=2")
                _ = try await client.stream(id)
                _ = try await client.waitUntilFinished(id)
                let line = try #require(captured.all.first { $0.contains("turn ended") && $0.contains(id) })
                #expect(line.contains("status=completed") && line.contains("ttft_ms=") && line.contains("duration_ms="))
                #expect(line.contains("secret words") == logsText, "\(line)")
                #expect(line.contains("t1 t2") == logsText, "\(line)")
            }
        }
    }
}
