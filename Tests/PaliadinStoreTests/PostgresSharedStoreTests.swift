import Foundation
import PaliadinCore
import PaliadinStore
import Synchronization
import Testing

/// What instances sharing one PostgreSQL database rely on: heartbeats, the closing of dead
/// instances' turns, stop requests, notifications, and safe migrations. Runs when
/// `PALIADIN_TEST_POSTGRES_URL` names a server (`scripts/postgres.sh start`).
@Suite("PostgreSQL shared store", .enabled(if: TestPostgres.isConfigured, "PALIADIN_TEST_POSTGRES_URL is not set"))
struct PostgresSharedStoreTests {
    func record(instance: String?, message: String = "q") -> TurnRecord {
        var record = TurnRecord(
            id: TurnID(), userID: "u@x", sessionID: "s", pageOrigin: nil, contextJSON: nil, userMessage: message,
            startedAt: Self.now(), backend: "openai", model: "m")
        record.instanceID = instance
        return record
    }

    /// Now, at the millisecond (the stores keep times so).
    static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    func content(_ id: TurnID, _ seq: Int, _ text: String) -> TurnEvent {
        TurnEvent(turnID: id, seq: seq, kind: .content, data: PayloadCoding.encode(ContentPayload.delta(text)))
    }

    func end(_ id: TurnID, _ seq: Int) -> TurnEvent {
        TurnEvent(turnID: id, seq: seq, kind: .end, data: "{}")
    }

    func completed() -> TurnOutcome {
        TurnOutcome(status: .completed, response: "done", finishedAt: Date(), durationMS: 5)
    }

    @Test("the turn row keeps its instance")
    func instanceRoundTrip() async throws {
        try await TestPostgres.withStore { store, _ in
            let turn = record(instance: "i-1")
            try await store.insertTurn(turn)
            #expect(try await store.turn(turn.id)?.instanceID == "i-1")
            #expect(try await store.turn(turn.id) == turn, "the row reads back as written")
        }
    }

    @Test("turns of a silent instance (or of none) are closed once, with their text and an error event; a live instance's are left")
    func deadInstances() async throws {
        try await TestPostgres.withStore { store, _ in
            try await store.heartbeat(InstanceInfo(id: "dead", address: "10.0.0.1:8080"))
            try await store.heartbeat(InstanceInfo(id: "alive", address: "10.0.0.2:8080"))
            let ofDead = record(instance: "dead")
            let ofAlive = record(instance: "alive")
            let ofGhost = record(instance: "never-beat")
            let ofNone = record(instance: nil)
            for turn in [ofDead, ofAlive, ofGhost, ofNone] { try await store.insertTurn(turn) }
            try await store.appendEvents([content(ofDead.id, 1, "par"), content(ofDead.id, 2, "tial")])
            try await store.appendEvents([content(ofAlive.id, 1, "still going")])
            try await store.executeForTesting("UPDATE instances SET heartbeat_at = now() - interval '1 hour' WHERE id = 'dead'")

            let closed = try await store.interruptTurnsOfDeadInstances(staleAfter: .seconds(20), message: "its instance died")
            #expect(Set(closed) == [ofDead.id, ofGhost.id, ofNone.id])
            let row = try #require(try await store.turn(ofDead.id))
            #expect(row.status == .interrupted)
            #expect(row.response == "partial")
            #expect(row.errorCode == TurnErrorCode.interrupted)
            #expect(row.errorMessage == "its instance died")
            #expect(row.finishedAt != nil)
            #expect((row.durationMS ?? -1) >= 0)
            let last = try #require(try await store.lastEvent(of: ofDead.id))
            #expect(last.seq == 3)
            #expect(last.kind == .error)
            let payload = try PayloadCoding.decode(ErrorPayload.self, from: last.data)
            #expect(payload == ErrorPayload(code: TurnErrorCode.interrupted, message: "its instance died", retryable: true))
            #expect(try await store.lastEvent(of: ofGhost.id)?.seq == 1, "an empty log gets its error event at 1")
            #expect(try await store.turn(ofAlive.id)?.status == .running)
            #expect(try await store.events(of: ofAlive.id, after: 0, limit: 10).count == 1)

            #expect(try await store.interruptTurnsOfDeadInstances(staleAfter: .seconds(20), message: "again").isEmpty)
            // The dead instance's row went with its turns: a turn of it now has no instance
            // row at all, and is closed even with a long timeout.
            let late = record(instance: "dead")
            try await store.insertTurn(late)
            #expect(try await store.interruptTurnsOfDeadInstances(staleAfter: .seconds(3600), message: "late") == [late.id])
            // A heartbeat brings a removed instance back.
            try await store.heartbeat(InstanceInfo(id: "dead", address: "10.0.0.1:8080"))
            let revived = record(instance: "dead")
            try await store.insertTurn(revived)
            #expect(try await store.interruptTurnsOfDeadInstances(staleAfter: .seconds(20), message: "no").isEmpty)
            try await store.removeInstance(id: "dead")
            #expect(try await store.interruptTurnsOfDeadInstances(staleAfter: .seconds(20), message: "gone") == [revived.id])
        }
    }

    @Test("janitors of several instances at once close each turn once")
    func concurrentJanitors() async throws {
        try await TestPostgres.withStore { store, url in
            var turns: [TurnID] = []
            for index in 0..<40 {
                let turn = record(instance: "dead", message: "q\(index)")
                try await store.insertTurn(turn)
                try await store.appendEvents([content(turn.id, 1, "x")])
                turns.append(turn.id)
            }
            try await TestPostgres.withRunning(url) { other in
                async let first = store.interruptTurnsOfDeadInstances(staleAfter: .seconds(20), message: "a")
                async let second = other.interruptTurnsOfDeadInstances(staleAfter: .seconds(20), message: "b")
                let (a, b) = try await (first, second)
                #expect(Set(a).isDisjoint(with: b))
                #expect(Set(a).union(b) == Set(turns))
            }
            for id in turns {
                #expect(try await store.events(of: id, after: 0, limit: 10).map(\.kind) == [.content, .error])
            }
        }
    }

    @Test("events of a turn already closed are not written")
    func appendToClosedTurn() async throws {
        try await TestPostgres.withStore { store, _ in
            let turn = record(instance: "i")
            try await store.insertTurn(turn)
            try await store.appendEvents([content(turn.id, 1, "a")])
            #expect(try await store.finishTurn(turn.id, outcome: completed(), lastEvent: end(turn.id, 2)))
            let running = record(instance: "i")
            try await store.insertTurn(running)
            // One batch with events of a closed turn and of a running one: only the latter's go in.
            try await store.appendEvents([content(turn.id, 3, "late"), content(running.id, 1, "b")])
            #expect(try await store.events(of: turn.id, after: 0, limit: 10).map(\.seq) == [1, 2])
            #expect(try await store.events(of: running.id, after: 0, limit: 10).map(\.seq) == [1])
            try await store.appendEvents([content(TurnID(), 1, "no such turn")])
        }
    }

    @Test("a stop request marks the running row; the instance finds it among its turns")
    func stopRequests() async throws {
        try await TestPostgres.withStore { store, _ in
            let asked = record(instance: "i")
            let running = record(instance: "i")
            let closed = record(instance: "i")
            for turn in [asked, running, closed] { try await store.insertTurn(turn) }
            #expect(try await store.finishTurn(closed.id, outcome: completed(), lastEvent: end(closed.id, 1)))
            #expect(try await store.requestStop(of: asked.id))
            #expect(try await store.requestStop(of: closed.id) == false)
            #expect(try await store.requestStop(of: TurnID()) == false)
            let unknown = TurnID()
            #expect(try await store.turnsToStop(among: [asked.id, running.id, closed.id, unknown]) == [asked.id, closed.id, unknown])
            #expect(try await store.turnsToStop(among: []).isEmpty)
            #expect(try await store.turn(asked.id)?.status == .running, "a request only marks the row")
        }
    }

    @Test("listen: `.listening`, then every instance's grown logs and stop requests; again after the connection is lost")
    func notifications() async throws {
        try await TestPostgres.withStore { store, url in
            let received = Received()
            let listener = Task { try await store.listen { received.append($0) } }
            defer { listener.cancel() }
            try await received.wait("listening") { $0.contains(.listening) }

            // Another instance writes; this one hears of it.
            try await TestPostgres.withRunning(url) { other in
                let turn = record(instance: "other")
                try await other.insertTurn(turn)
                try await other.executeForTesting("SELECT pg_notify('paliadin_events', 'not a turn')")
                try await other.executeForTesting("SELECT pg_notify('paliadin_stop', 'nope')")
                try await other.appendEvents([content(turn.id, 1, "a"), content(turn.id, 2, "b")])
                try await received.wait("events up to 2") { $0.contains(.events(turn.id, upTo: 2)) }
                #expect(try await other.requestStop(of: turn.id))
                try await received.wait("stop request") { $0.contains(.stopRequested(turn.id)) }
                #expect(try await other.finishTurn(turn.id, outcome: completed(), lastEvent: end(turn.id, 3)))
                try await received.wait("events up to 3") { $0.contains(.events(turn.id, upTo: 3)) }
                #expect(received.all == [.listening, .events(turn.id, upTo: 2), .stopRequested(turn.id), .events(turn.id, upTo: 3)],
                    "malformed payloads are ignored")

                // The server drops the listening connection: the store reconnects and says so.
                try await other.executeForTesting(
                    """
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'
                    """)
                try await received.wait("listening again") { $0.filter { $0 == .listening }.count == 2 }
                let next = record(instance: "other")
                try await other.insertTurn(next)
                try await other.appendEvents([content(next.id, 1, "c")])
                try await received.wait("events after the reconnection") { $0.contains(.events(next.id, upTo: 1)) }
            }
            listener.cancel()
            try await listener.value
        }
    }

    @Test("a database of a newer schema is refused")
    func schemaTooNew() async throws {
        try await TestPostgres.withStore { store, url in
            #expect(try await store.schemaVersion() == PostgresTurnStore.knownSchemaVersion)
            try await store.migrate()
            #expect(try await store.schemaVersion() == PostgresTurnStore.knownSchemaVersion, "migrating again changes nothing")
            try await store.executeForTesting("INSERT INTO schema_version (version) VALUES (99)")
            try await TestPostgres.withRunning(url) { newer in
                let error = await #expect(throws: StoreError.self) { try await newer.migrate() }
                guard case .schemaTooNew(let found, let known)? = error else {
                    Issue.record("expected schemaTooNew, got \(String(describing: error))")
                    return
                }
                #expect(found == 99)
                #expect(known == PostgresTurnStore.knownSchemaVersion)
            }
        }
    }

    @Test("instances starting together migrate one after the other")
    func concurrentMigrations() async throws {
        try await TestPostgres.withStore(migrated: false) { store, url in
            #expect(try await store.schemaVersion() == 0)
            try await TestPostgres.withRunning(url) { second in
                try await TestPostgres.withRunning(url) { third in
                    async let a: Void = store.migrate()
                    async let b: Void = second.migrate()
                    async let c: Void = third.migrate()
                    _ = try await (a, b, c)
                }
            }
            #expect(try await store.schemaVersion() == PostgresTurnStore.knownSchemaVersion)
            // Each version was applied once.
            try await store.executeForTesting(
                """
                DO $$ BEGIN
                    IF (SELECT count(*) FROM schema_version) <> \(PostgresTurnStore.knownSchemaVersion) THEN RAISE 'migrated twice'; END IF;
                END $$
                """)
        }
    }

    @Test("a server error reads plainly")
    func readableErrors() async throws {
        try await TestPostgres.withStore { store, _ in
            let error = await #expect(throws: StoreError.self) { try await store.executeForTesting("SELECT * FROM no_such_table") }
            let text = String(describing: error)
            #expect(text.contains("no_such_table"), "\(text)")
            #expect(text.contains("42P01"), "\(text)")
        }
    }
}

/// Notifications a listener got, in order, for a test to wait on.
final class Received: Sendable {
    private let items = Mutex<[StoreNotification]>([])

    func append(_ notification: StoreNotification) {
        items.withLock { $0.append(notification) }
    }

    var all: [StoreNotification] { items.withLock { $0 } }

    /// Waits (at most 10 s) until the notifications satisfy `condition`.
    func wait(_ what: String, _ condition: ([StoreNotification]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition(all) {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what); got \(all)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
