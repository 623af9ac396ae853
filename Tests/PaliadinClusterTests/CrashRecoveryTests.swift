import Foundation
import Logging
import PaliadinStore
import PaliadinTestSupport
import Testing

/// `kill -9` of a real `paliadin serve` on SQLite mid-turn, then a restart on the same file.
/// Needs no PostgreSQL: runs with the other suites.
@Suite("Crash and restart on SQLite")
struct CrashRecoveryTests {
    @Test("kill -9 mid-turn: after the restart the turn is interrupted, nothing its reader saw is lost, the file is sound")
    func killedMidTurn() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("paliadin.sqlite").path
        try await MockOpenAIUpstream().run { baseURL in
            let first = try await PaliadinProcess(name: "crash-a", database: database, backendURL: baseURL)
            let onFirst = ClusterClient(base: first.base)
            let turnID = try await onFirst.startTurn("mock:chunks=400 delay=20ms")
            let seen = try await onFirst.stream(turnID) { $0.contentCount >= 6 }
            first.kill()
            #expect(seen.contentCount >= 6)

            // The same file: the lock died with the process, and the start closes what it left running.
            let second = try await PaliadinProcess(name: "crash-b", database: database, backendURL: baseURL)
            let onSecond = ClusterClient(base: second.base)
            let row = try await onSecond.turn(turnID)
            #expect(row["status"] as? String == "interrupted")
            #expect(row["error_code"] as? String == "interrupted")
            let stored = row["response"] as? String ?? ""
            // Known defect (issue 7, "no event lost"): readers get an event as soon as it is in the
            // live log, before its batch is written, so a reader may have seen the last few events
            // that a crash then loses (and the closing `error` takes the first lost number).
            withKnownIssue("readers may see events that are not yet written when the process dies", isIntermittent: true) {
                #expect(stored.hasPrefix(seen.text), "the reader saw \(seen.text.count) characters; stored: \(stored.count)")
            }
            #expect(ClusterTests.expectedText(400).hasPrefix(stored))
            // Its log replays whole: ids without gap, the stored text, one last `error`.
            let replay = try await onSecond.stream(turnID)
            #expect(replay.compactMap(\.id) == Array(1...replay.count))
            #expect(replay.text == stored)
            #expect(replay.last?.name == "error" && replay.last?.errorCode == "interrupted")
            // The restarted server works.
            let next = try await onSecond.startTurn("hello")
            #expect(try await onSecond.stream(next).last?.name == "end")
            second.stop()

            let store = try SQLiteTurnStore(path: database)
            #expect(try await store.integrityCheck() == "ok")
        }
    }
}
