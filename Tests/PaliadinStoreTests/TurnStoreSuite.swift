import Foundation
import PaliadinCore
import PaliadinStore
import Synchronization
import Testing

/// The store test suite: every store implementation must pass it.
@Suite("TurnStore suite")
struct TurnStoreSuite {
    /// Runs `body` on each store under test, each fresh and empty: SQLite always, and
    /// PostgreSQL when `PALIADIN_TEST_POSTGRES_URL` names a server (its pool runs for the
    /// duration of `body`).
    static func withStores(_ body: (_ name: String, _ store: any TurnStore) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("paliadin-store-\(UUID().uuidString)/db.sqlite").path
        let sqlite = try SQLiteTurnStore(path: path)
        try await sqlite.migrate()
        try await body("sqlite", sqlite)
        if TestPostgres.isConfigured {
            try await TestPostgres.withStore { store, _ in try await body("postgres", store) }
        }
    }

    func record(_ user: String = "u@x", session: String = "s", message: String = "q", at date: Date = Date()) -> TurnRecord {
        TurnRecord(
            id: TurnID(), userID: user, sessionID: session, pageOrigin: "/p", contextJSON: #"{"a":1}"#, userMessage: message,
            startedAt: date, backend: "openai", model: "m")
    }

    func content(_ id: TurnID, _ seq: Int, _ text: String) -> TurnEvent {
        TurnEvent(turnID: id, seq: seq, kind: .content, data: PayloadCoding.encode(ContentPayload.delta(text)))
    }

    @Test("a turn's row round-trips and closes once, with its last event")
    func rowLifecycle() async throws {
        try await Self.withStores { name, store in
            try await store.ping()
            let turn = record()
            try await store.insertTurn(turn)
            let stored = try #require(try await store.turn(turn.id), "\(name)")
            #expect(stored.status == .running)
            #expect(stored.contextJSON == #"{"a":1}"#)
            #expect(abs(stored.startedAt.timeIntervalSince(turn.startedAt)) < 0.001)
            let outcome = TurnOutcome(
                status: .completed, response: "answer", finishedAt: Date(), durationMS: 120, ttftMS: 15, tokensIn: 3, tokensOut: 4,
                usedTools: ["search"], rowsSeen: [1, 2], chipCount: 2, classifierTag: "tag", conversationID: "c1", streamed: true)
            let end = TurnEvent(turnID: turn.id, seq: 1, kind: .end, data: "{}")
            #expect(try await store.finishTurn(turn.id, outcome: outcome, lastEvent: end))
            #expect(try await store.finishTurn(turn.id, outcome: outcome, lastEvent: end) == false, "closing twice does nothing")
            let closed = try #require(try await store.turn(turn.id))
            #expect(closed.status == .completed)
            #expect(closed.response == "answer")
            #expect(closed.usedTools == ["search"])
            #expect(closed.rowsSeen == [1, 2])
            #expect(closed.ttftMS == 15)
            #expect(closed.tokensOut == 4)
            #expect(closed.conversationID == "c1")
            #expect(closed.streamed)
            #expect(try await store.events(of: turn.id, after: 0, limit: 10).map(\.kind) == [.end])
            #expect(try await store.turn(TurnID()) == nil)
        }
    }

    @Test("events page in order after a sequence number")
    func eventPaging() async throws {
        try await Self.withStores { name, store in
            let turn = record()
            try await store.insertTurn(turn)
            try await store.appendEvents((1...10).map { content(turn.id, $0, "t\($0)") })
            let page = try await store.events(of: turn.id, after: 3, limit: 4)
            #expect(page.map(\.seq) == [4, 5, 6, 7])
            #expect(try await store.events(of: turn.id, after: 10, limit: 4).isEmpty)
            // A page bounded by bytes: events while their data fits, but always the first.
            let big = TurnRecord(
                id: TurnID(), userID: "u@x", sessionID: "s", pageOrigin: nil, contextJSON: nil, userMessage: "q", startedAt: Date(),
                backend: "openai", model: "m")
            try await store.insertTurn(big)
            try await store.appendEvents((1...6).map { content(big.id, $0, String(repeating: "x", count: 10_000)) })
            let eventBytes = content(big.id, 1, String(repeating: "x", count: 10_000)).data.utf8.count
            #expect(try await store.events(of: big.id, after: 0, limit: 100, maxBytes: 3 * eventBytes).map(\.seq) == [1, 2, 3], "\(name)")
            #expect(try await store.events(of: big.id, after: 2, limit: 100, maxBytes: 3 * eventBytes - 1).map(\.seq) == [3, 4])
            #expect(try await store.events(of: big.id, after: 4, limit: 100, maxBytes: 10).map(\.seq) == [5], "one event even over the bound")
            #expect(try await store.events(of: big.id, after: 0, limit: 2, maxBytes: .max).map(\.seq) == [1, 2])
            await #expect(throws: (any Error).self) {
                try await store.appendEvents([content(turn.id, 5, "duplicate")])
            }
        }
    }

    @Test("a stateful backend resumes the session's latest conversation id: same user, session and backend, since the reset")
    func conversationResume() async throws {
        try await Self.withStores { name, store in
            let start = Date().addingTimeInterval(-100)
            func closed(_ turn: TurnRecord, conversation: String?, status: TurnStatus = .completed) async throws {
                try await store.insertTurn(turn)
                _ = try await store.finishTurn(
                    turn.id, outcome: TurnOutcome(status: status, response: "r", finishedAt: Date(), durationMS: 1, conversationID: conversation),
                    lastEvent: TurnEvent(turnID: turn.id, seq: 1, kind: .end, data: "{}"))
            }
            func agentTurn(_ user: String = "u@x", session: String = "s", at offset: Double, backend: String = "agent") -> TurnRecord {
                var turn = record(user, session: session, at: start.addingTimeInterval(offset))
                turn.backend = backend
                return turn
            }
            try await closed(agentTurn(at: 1), conversation: "c-old")
            try await closed(agentTurn(at: 2), conversation: "c-new", status: .cancelled)
            try await closed(agentTurn(at: 3), conversation: nil, status: .failed)
            try await closed(agentTurn(session: "other", at: 4), conversation: "c-other-session")
            try await closed(agentTurn("v@x", at: 5), conversation: "c-other-user")
            try await closed(agentTurn(at: 6, backend: "openai"), conversation: "c-other-backend")
            let next = try await store.openTurn(agentTurn(at: 10), historyLimit: 0, resumeConversation: true)
            #expect(next.conversationID == "c-new", "\(name): the latest id, even of a stopped turn")
            #expect(next.exchanges.isEmpty)
            try await store.resetConversation(userID: "u@x", at: start.addingTimeInterval(20))
            let afterReset = try await store.openTurn(agentTurn(at: 30), historyLimit: 0, resumeConversation: true)
            #expect(afterReset.conversationID == nil, "\(name): reset forgets the conversation ids")
        }
    }

    @Test("history is one user's session, latest N, oldest first; past exchanges respect reset")
    func historyAndConversation() async throws {
        try await Self.withStores { _, store in
            let start = Date().addingTimeInterval(-100)
            var ids: [TurnID] = []
            for index in 0..<5 {
                let turn = record(message: "q\(index)", at: start.addingTimeInterval(Double(index)))
                ids.append(turn.id)
                try await store.insertTurn(turn)
                _ = try await store.finishTurn(
                    turn.id, outcome: TurnOutcome(status: index == 2 ? .failed : .completed, response: "a\(index)", finishedAt: Date(), durationMS: 1),
                    lastEvent: TurnEvent(turnID: turn.id, seq: 1, kind: .end, data: "{}"))
            }
            try await store.insertTurn(record("other@x", message: "not mine"))
            try await store.insertTurn(record(session: "other", message: "other session"))
            let latest = try await store.history(userID: "u@x", sessionID: "s", limit: 3)
            #expect(latest.map(\.userMessage) == ["q2", "q3", "q4"])
            let past = try await store.pastExchanges(userID: "u@x", sessionID: "s", before: Date(), limit: 10)
            #expect(past.map(\.userMessage) == ["q0", "q1", "q3", "q4"], "only completed turns")
            try await store.resetConversation(userID: "u@x", at: start.addingTimeInterval(2.5))
            let afterReset = try await store.pastExchanges(userID: "u@x", sessionID: "s", before: Date(), limit: 10)
            #expect(afterReset.map(\.userMessage) == ["q3", "q4"])
            // Opening a turn writes its row and hands back the same conversation, bounded by the limit.
            let next = record(message: "q5")
            let opened = try await store.openTurn(next, historyLimit: 1, resumeConversation: false)
            #expect(opened.exchanges.map(\.userMessage) == ["q4"])
            #expect(opened.conversationID == nil)
            #expect(try await store.turn(next.id)?.status == .running)
            #expect(try await store.openTurn(record(message: "q6"), historyLimit: 0, resumeConversation: false).exchanges.isEmpty)
            let recent = try await store.recentTurns(limit: 2)
            #expect(recent.count == 2)
            #expect(recent.first?.startedAt ?? .distantPast >= recent.last?.startedAt ?? .distantFuture)
        }
    }

    @Test("an export pages through the turns started since a time, oldest first, none skipped or repeated")
    func exportPages() async throws {
        try await Self.withStores { name, store in
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            try await store.insertTurn(record(message: "old", at: start.addingTimeInterval(-3600)))
            var written: [TurnID] = []
            for index in 0..<5 {
                let turn = record(message: "q\(index)", at: start.addingTimeInterval(Double(index)))
                try await store.insertTurn(turn)
                written.append(turn.id)
            }
            var seen: [TurnID] = []
            var pages: [Int] = []
            let late = record(message: "late", at: start.addingTimeInterval(10))
            try await store.exportTurns(startedSince: start, pageSize: 2) { page in
                if pages.isEmpty {
                    // A turn written mid-export: in it whole or not at all, never twice.
                    try await store.insertTurn(late)
                }
                pages.append(page.count)
                seen += page.map(\.id)
            }
            #expect(Array(seen.prefix(5)) == written, "\(name)")
            #expect(seen.count == 5 || seen.last == late.id, "\(name)")
            #expect(Set(seen).count == seen.count, "\(name)")
            #expect(pages.allSatisfy { (1...2).contains($0) }, "\(name): \(pages)")
            var fromThree: [String] = []
            try await store.exportTurns(startedSince: start.addingTimeInterval(3), pageSize: 10) { page in fromThree += page.map(\.userMessage) }
            #expect(fromThree == ["q3", "q4", "late"], "\(name)")
            var none = 0
            try await store.exportTurns(startedSince: start.addingTimeInterval(60), pageSize: 10) { none += $0.count }
            #expect(none == 0)
        }
    }

    @Test("turns left running are closed as interrupted with the text of their log and a final error event")
    func interruptRunning() async throws {
        try await Self.withStores { _, store in
            let running = record()
            try await store.insertTurn(running)
            try await store.appendEvents([content(running.id, 1, "par"), content(running.id, 2, "tial")])
            let done = record()
            try await store.insertTurn(done)
            _ = try await store.finishTurn(
                done.id, outcome: TurnOutcome(status: .completed, response: "x", finishedAt: Date(), durationMS: 1),
                lastEvent: TurnEvent(turnID: done.id, seq: 1, kind: .end, data: "{}"))
            let closed = try await store.interruptRunningTurns(at: Date(), message: "stopped")
            #expect(closed == [running.id])
            let row = try #require(try await store.turn(running.id))
            #expect(row.status == .interrupted)
            #expect(row.response == "partial")
            #expect(row.errorCode == "interrupted")
            let last = try #require(try await store.events(of: running.id, after: 0, limit: 10).last)
            #expect(last.seq == 3)
            #expect(last.kind == .error)
            #expect(try await store.turn(done.id)?.status == .completed)
            #expect(try await store.interruptRunningTurns(at: Date(), message: "again").isEmpty)
        }
    }

    @Test("tokens: stored hashed, found by hash, revocable")
    func tokens() async throws {
        try await Self.withStores { _, store in
            try await store.insertToken(StoredToken(id: "t1", userID: "u@x", hash: "abc", label: "cli", createdAt: Date()))
            #expect(try await store.tokenUser(hash: "abc") == "u@x")
            #expect(try await store.tokenUser(hash: "nope") == nil)
            #expect(try await store.revokeToken(id: "t1", at: Date()))
            #expect(try await store.revokeToken(id: "t1", at: Date()) == false)
            #expect(try await store.tokenUser(hash: "abc") == nil)
            #expect(try await store.tokens().first?.revokedAt != nil)
        }
    }

    @Test("reader counts and stats")
    func readersAndStats() async throws {
        try await Self.withStores { _, store in
            let turn = record()
            try await store.insertTurn(turn)
            try await store.noteReaders([turn.id: ReaderCount(connects: 1)])
            try await store.noteReaders([turn.id: ReaderCount(connects: 1, resumes: 1)])
            let row = try #require(try await store.turn(turn.id))
            #expect(row.readerConnects == 2)
            #expect(row.readerResumes == 1)
            let stats = try await store.stats(now: Date())
            #expect(stats.turnsTotal == 1)
            #expect(stats.running == 1)
        }
    }
}

@Suite("SQLite specifics")
struct SQLiteStoreTests {
    /// A fresh, migrated store in its own temporary folder, holding one turn row.
    static func storeWithTurn() async throws -> (SQLiteTurnStore, TurnRecord) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-w-\(UUID().uuidString)/db.sqlite").path
        let store = try SQLiteTurnStore(path: path)
        try await store.migrate()
        let turn = TurnRecord(
            id: TurnID(), userID: "u", sessionID: "s", pageOrigin: nil, contextJSON: nil, userMessage: "q", startedAt: Date(),
            backend: "b", model: "m")
        try await store.insertTurn(turn)
        return (store, turn)
    }

    @Test("migrations are idempotent; a newer schema is refused; the file passes the integrity check")
    func migrations() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-mig-\(UUID().uuidString)/db.sqlite").path
        let store = try SQLiteTurnStore(path: path)
        try await store.migrate()
        try await store.migrate()
        #expect(try await store.integrityCheck() == "ok")
        let raw = try SQLiteTurnStore(path: path)
        try await raw.migrate()
        // Pretend a newer Paliadin wrote the file.
        try await raw.executeForTesting("INSERT INTO schema_version (version) VALUES (99)")
        await #expect(throws: StoreError.self) { try await SQLiteTurnStore(path: path).migrate() }
    }

    @Test("the log is checkpointed in the background, not inside commits, and stays bounded")
    func backgroundCheckpoints() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-ck-\(UUID().uuidString)/db.sqlite").path
        let store = try SQLiteTurnStore(path: path)
        try await store.migrate()
        let big = String(repeating: "x", count: 4000)
        // 600 writes of ~4 KB (without checkpoints the log would hold them all: 2.4 MB and
        // more), and more while fewer than five checkpoints ran: on a busy machine a slow
        // checkpoint lets many writes pass (one runs at a time).
        var index = 0
        while index < 600 || (store.checkpointsCompleted < 5 && index < 3000) {
            try await store.insertTurn(
                TurnRecord(
                    id: TurnID(), userID: "u", sessionID: "s", pageOrigin: nil, contextJSON: nil, userMessage: "\(index) \(big)",
                    startedAt: Date(), backend: "b", model: "m"))
            index += 1
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while store.checkpointsCompleted < 5, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(store.checkpointsCompleted >= 5)
        let databaseBytes = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        // The fifth checkpoint began after at least 5 × 64 writes: 320 turns of 4 KB (1.3 MB) at
        // least are in the file. (The last writes may still wait in the log: under load, the
        // checkpoints fall behind the writes.)
        #expect(databaseBytes > 1_200_000, "the turns reached the database file")
        #expect(try await store.history(userID: "u", sessionID: "s", limit: 200).count == 200)
        #expect(try await store.integrityCheck() == "ok")
    }

    @Test("trickling events gather into one write; a flush or a full batch ends the wait at once")
    func writerGathers() async throws {
        let (store, turn) = try await Self.storeWithTurn()
        // An hour-long window: only the early ends can let these writes through in time.
        let writer = EventLogWriter(store: store, logger: .init(label: "test"), maxBatch: 8, gatherWindow: .seconds(3600))
        for seq in 1...5 {
            writer.append(TurnEvent(turnID: turn.id, seq: seq, kind: .content, data: #"{"delta":"x"}"#))
            await Task.yield()
        }
        try await writer.flush(turn: turn.id)
        #expect(writer.batchesWritten == 1, "five trickling events, one transaction")
        #expect(try await store.events(of: turn.id, after: 0, limit: 100).map(\.seq) == Array(1...5))
        // A full batch is written without a flush.
        for seq in 6...13 {
            writer.append(TurnEvent(turnID: turn.id, seq: seq, kind: .content, data: #"{"delta":"x"}"#))
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while writer.batchesWritten < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(writer.batchesWritten == 2)
        #expect(try await store.events(of: turn.id, after: 0, limit: 100).count == 13)
    }

    /// Remembers the highest sequence number the writer reported as written.
    final class WrittenMark: EventWriteObserver {
        let seq = Mutex(0)
        func eventsWritten(through seq: Int) { self.seq.withLock { $0 = max($0, seq) } }
        func eventsNotWritten(_ error: any Error) {}
    }

    @Test("a flush returns only once the events appended before it are written and reported, whatever reader counts come after it")
    func flushWaitsForItsEvents() async throws {
        let (store, turn) = try await Self.storeWithTurn()
        let writer = EventLogWriter(store: store, logger: .init(label: "test"), maxBatch: 4, gatherWindow: .milliseconds(1))
        let mark = WrittenMark()
        // Reader counts arrive all the time (as resumed readers do): those that come while a
        // flush waits may be written before the events it waits for, and must not let it return early.
        let counting = Task {
            while !Task.isCancelled {
                writer.noteReader(of: turn.id, resumed: true)
                await Task.yield()
            }
        }
        defer { counting.cancel() }
        var seq = 0
        for round in 0..<300 {
            for _ in 0..<(round % 7 + 1) {
                seq += 1
                writer.append(TurnEvent(turnID: turn.id, seq: seq, kind: .content, data: "{}"), observer: mark)
            }
            try await writer.flush(turn: turn.id)
            try #require(mark.seq.withLock { $0 } == seq, "round \(round): the flush returned before event \(seq) was reported written")
        }
        #expect(try await store.events(of: turn.id, after: 0, limit: 5000).map(\.seq) == Array(1...seq))
    }

    @Test("the event log writer batches and flushes")
    func writerBatches() async throws {
        let (store, turn) = try await Self.storeWithTurn()
        let writer = EventLogWriter(store: store, logger: .init(label: "test"), maxBatch: 64)
        for seq in 1...1000 {
            writer.append(TurnEvent(turnID: turn.id, seq: seq, kind: .content, data: #"{"delta":"x"}"#))
        }
        try await writer.flush(turn: turn.id)
        #expect(try await store.events(of: turn.id, after: 0, limit: 2000).map(\.seq) == Array(1...1000))
        let batches = writer.batchesWritten
        #expect(batches < 1000, "events are grouped into batches, not one write each (\(batches) batches)")
        // A failed write (duplicate sequence numbers) is reported by flush for that turn only;
        // the other turn in the same batch keeps its events.
        let other = TurnRecord(
            id: TurnID(), userID: "u", sessionID: "s", pageOrigin: nil, contextJSON: nil, userMessage: "q", startedAt: Date(),
            backend: "b", model: "m")
        try await store.insertTurn(other)
        writer.append(TurnEvent(turnID: turn.id, seq: 1, kind: .content, data: "{}"))
        writer.append(TurnEvent(turnID: other.id, seq: 1, kind: .content, data: "{}"))
        writer.append(TurnEvent(turnID: other.id, seq: 2, kind: .content, data: "{}"))
        await #expect(throws: (any Error).self) { try await writer.flush(turn: turn.id) }
        try await writer.flush(turn: other.id)
        #expect(try await store.events(of: other.id, after: 0, limit: 10).map(\.seq) == [1, 2])
    }
}

extension TurnStoreSuite {
    @Test("stats: per-day turns, errors and p50/p95 of duration and TTFT; the time they describe")
    func statsPerDay() async throws {
        try await Self.withStores { name, store in
            let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z
            let dayBefore = now.addingTimeInterval(-2 * 86_400)
            func closed(at start: Date, duration: Int, ttft: Int?, status: TurnStatus = .completed) async throws {
                let turn = record(at: start)
                try await store.insertTurn(turn)
                let outcome = TurnOutcome(
                    status: status, response: "", errorCode: status == .failed ? "upstream_error" : nil,
                    finishedAt: start.addingTimeInterval(1), durationMS: duration, ttftMS: ttft)
                _ = try await store.finishTurn(turn.id, outcome: outcome, lastEvent: TurnEvent(turnID: turn.id, seq: 1, kind: .end, data: "{}"))
            }
            for index in 1...10 {
                try await closed(at: dayBefore.addingTimeInterval(Double(index)), duration: index * 10, ttft: index, status: index == 1 ? .failed : .completed)
            }
            try await closed(at: now.addingTimeInterval(-60), duration: 500, ttft: nil, status: .cancelled)
            try await store.insertTurn(record(at: now.addingTimeInterval(-5)))

            let stats = try await store.stats(now: now)
            #expect(stats.generatedAt == "2027-01-15T08:00:00.000Z", "\(name)")
            #expect(stats.byDay.map(\.day) == ["2027-01-13", "2027-01-15"])
            let first = try #require(stats.byDay.first)
            #expect(first == TurnStats.DayLine(
                day: "2027-01-13", turns: 10, errors: 1, durationP50MS: 50, durationP95MS: 100, ttftP50MS: 5, ttftP95MS: 10))
            let last = try #require(stats.byDay.last)
            #expect(last == TurnStats.DayLine(
                day: "2027-01-15", turns: 2, errors: 0, durationP50MS: 500, durationP95MS: 500, ttftP50MS: nil, ttftP95MS: nil))
            #expect(stats.turnsToday == 2)
            #expect(stats.running == 1)
            #expect(stats.durationMS.p95 == 500)
        }
    }
}
