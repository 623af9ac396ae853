import Foundation
import Logging
import PaliadinStore
import PaliadinTestSupport
import Testing

/// `kill -9` of a real `paliadin serve` on SQLite mid-turn, then a restart on the same file.
/// Needs no PostgreSQL: runs with the other suites.
@Suite("Crash and restart on SQLite")
struct CrashRecoveryTests {
    @Test("kill -9 mid-turn: after the restart the turn is interrupted, nothing its reader saw is lost or renumbered, the file is sound")
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
            // A reader sees an event only once it is written: whatever it was sent survives the crash.
            #expect(stored.hasPrefix(seen.text), "the reader saw \(seen.text.count) characters; stored: \(stored.count)")
            #expect(ClusterTests.expectedText(400).hasPrefix(stored))
            // Its log replays whole: the events the reader saw, unchanged, then the rest; ids
            // without gap, the stored text, one last `error`.
            let replay = try await onSecond.stream(turnID)
            #expect(replay.compactMap(\.id) == Array(1...replay.count))
            let logged = seen.filter { $0.id != nil }
            #expect(replay.count > logged.count)
            #expect(zip(logged, replay).allSatisfy { $0.id == $1.id && $0.name == $1.name && $0.data == $1.data })
            #expect(replay.text == stored)
            #expect(replay.last?.name == "error" && replay.last?.errorCode == "interrupted")
            // The reader resumes where it was cut and gets the rest, the closing `error` included.
            let resumed = try await onSecond.stream(turnID, lastEventID: logged.last?.id)
            #expect(resumed.first?.id == (logged.last?.id ?? 0) + 1)
            #expect(seen.text + resumed.text == stored)
            #expect(resumed.last?.errorCode == "interrupted")
            // The restarted server works.
            let next = try await onSecond.startTurn("hello")
            #expect(try await onSecond.stream(next).last?.name == "end")
            second.stop()

            let store = try SQLiteTurnStore(path: database)
            #expect(try await store.integrityCheck() == "ok")
        }
    }
}
