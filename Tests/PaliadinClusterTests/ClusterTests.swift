import Foundation
import Testing

/// Two real Paliadin processes sharing one PostgreSQL database: any instance serves any
/// stream, a stop reaches the instance running the turn, a dead instance's turns are closed by
/// a survivor, and both survive a database restart.
@Suite(
    "Several instances on one PostgreSQL", .serialized,
    .enabled(if: ClusterFixture.serverURL != nil, "needs the PostgreSQL server that scripts/cluster-test.sh starts"))
struct ClusterTests {
    /// A slow answer: `count` chunks `t1 t2 ...`, `delayMS` apart.
    static func slow(_ count: Int, delayMS: Int) -> String { "mock:chunks=\(count) delay=\(delayMS)ms" }

    static func expectedText(_ count: Int) -> String { (1...count).map { "t\($0) " }.joined() }

    @Test("a turn started on A streams from B, and B resumes it with Last-Event-ID exactly")
    func streamAndResumeAcrossInstances() async throws {
        try await ClusterFixture.withTwoInstances { a, b in
            let onA = ClusterClient(base: a.base)
            let onB = ClusterClient(base: b.base)

            let turnID = try await onA.startTurn(Self.slow(30, delayMS: 30))
            let first = try await onB.stream(turnID) { $0.contentCount >= 5 }
            let lastSeen = try #require(first.last?.id)
            #expect(first.contentCount == 5)
            let rest = try await onB.stream(turnID, lastEventID: lastSeen)
            let whole = first + rest
            #expect(whole.compactMap(\.id) == Array(1...whole.count), "no gap and no repeat across the resume")
            #expect(rest.first?.id == lastSeen + 1)
            #expect(whole.last?.name == "end")
            #expect(whole.text == Self.expectedText(30))

            let row = try await onB.turn(turnID)
            #expect(row["status"] as? String == "completed")
            #expect(row["response"] as? String == Self.expectedText(30))
            // A replay from either instance, after the end, is the same log.
            let replayA = try await onA.stream(turnID)
            let replayB = try await onB.stream(turnID)
            #expect(replayA.map(\.data) == whole.map(\.data))
            #expect(replayB.map(\.data) == whole.map(\.data))
        }
    }

    @Test("events made on A reach a reader on B as they are made")
    func crossInstanceDeliveryLatency() async throws {
        try await ClusterFixture.withTwoInstances { a, b in
            let onA = ClusterClient(base: a.base)
            let onB = ClusterClient(base: b.base)
            let turnID = try await onA.startTurn(Self.slow(60, delayMS: 25))
            // The same turn read on the instance that runs it and on the other one at once:
            // the difference in arrival of each event is the cross-instance delivery time.
            async let local = onA.stream(turnID)
            async let remote = onB.stream(turnID)
            let (here, there) = try await (local, remote)
            #expect(here.map(\.data) == there.map(\.data))
            let arrivals = Dictionary(here.compactMap { event in event.id.map { ($0, event.at) } }, uniquingKeysWith: { first, _ in first })
            var delays: [Double] = []
            for event in there where event.name == "content" {
                guard let id = event.id, let seenHere = arrivals[id] else { continue }
                let delay = seenHere.duration(to: event.at)
                delays.append(Double(delay.components.attoseconds) / 1e15 + Double(delay.components.seconds) * 1000)
            }
            delays.sort()
            let median = delays[delays.count / 2]
            let p99 = delays[min(delays.count - 1, Int(Double(delays.count) * 0.99))]
            print("cross-instance delivery (ms), \(delays.count) events: p50 \(String(format: "%.1f", median)), p99 \(String(format: "%.1f", p99))")
            // The figure itself is a benchmark's business; this only catches delivery that
            // falls back to polling (a lost LISTEN), which shows as hundreds of milliseconds.
            #expect(median < 100, "median cross-instance delay \(median) ms")
        }
    }

    @Test("a stop requested on B ends the turn running on A")
    func cancelFromAnotherInstance() async throws {
        try await ClusterFixture.withTwoInstances { a, b in
            let onA = ClusterClient(base: a.base)
            let onB = ClusterClient(base: b.base)
            let turnID = try await onA.startTurn(Self.slow(400, delayMS: 50))
            let started = try await onB.stream(turnID) { $0.contentCount >= 2 }
            #expect(started.contentCount == 2)

            let cancel = try await onB.request(.POST, "/api/paliadin/turn/\(turnID)/cancel")
            #expect(cancel.status == 202, "cancel answered \(cancel.status): \(cancel.body)")
            let onAStream = try await onA.stream(turnID, lastEventID: started.last?.id)
            #expect(onAStream.last?.errorCode == "cancelled")
            let row = try await onB.turn(turnID)
            #expect(row["status"] as? String == "cancelled")
            // The answer stopped long before its 400 chunks.
            #expect((row["response"] as? String)?.split(separator: " ").count ?? 0 < 400)
            let again = try await onB.request(.POST, "/api/paliadin/turn/\(turnID)/cancel")
            #expect(again.status == 409)
        }
    }

    @Test("kill -9 of A mid-turn: B's reader gets interrupted within the bound, and the row keeps the partial text")
    func deadInstanceTurnsAreClosedBySurvivor() async throws {
        try await ClusterFixture.withTwoInstances { a, b in
            let onA = ClusterClient(base: a.base)
            let onB = ClusterClient(base: b.base)
            let turnID = try await onA.startTurn(Self.slow(400, delayMS: 50))
            let before = try await onB.stream(turnID) { $0.contentCount >= 4 }

            a.kill()
            let killedAt = ContinuousClock.now
            let after = try await onB.stream(turnID, lastEventID: before.last?.id)
            let waited = killedAt.duration(to: .now)
            let whole = before + after
            #expect(whole.last?.errorCode == "interrupted", "last event: \(String(describing: whole.last?.data))")
            // Instance timeout 2 s + heartbeat 0.5 s, with room for a loaded machine.
            #expect(waited < .seconds(10), "closed after \(waited)")
            #expect(whole.compactMap(\.id) == Array(1...whole.count))
            let row = try await onB.turn(turnID)
            #expect(row["status"] as? String == "interrupted")
            #expect(row["response"] as? String == whole.text)
            #expect(whole.contentCount >= 4)
            // B still works.
            let next = try await onB.startTurn("hello")
            #expect(try await onB.stream(next).last?.name == "end")
        }
    }

    @Test("both instances come back after PostgreSQL restarts, and new turns work across them")
    func survivesDatabaseRestart() async throws {
        try await ClusterFixture.withTwoInstances { a, b in
            let onA = ClusterClient(base: a.base)
            let onB = ClusterClient(base: b.base)
            #expect(try await onB.stream(try await onA.startTurn("before the restart")).last?.name == "end")

            try await ClusterFixture.restartServer()

            // The pools reconnect on their own; the first attempts may fail while they do.
            var turnID: String?
            for _ in 0..<100 where turnID == nil {
                turnID = try? await onA.startTurn(Self.slow(10, delayMS: 20))
                if turnID == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let started = try #require(turnID, "no turn could start on A after the restart:\n\(a.logTail())")
            let events = try await onB.stream(started)
            #expect(events.last?.name == "end")
            #expect(events.text == Self.expectedText(10))
            // The other way round, and a stop across instances (the notifications are back).
            let long = try await onB.startTurn(Self.slow(400, delayMS: 50))
            _ = try await onA.stream(long) { $0.contentCount >= 1 }
            #expect(try await onA.request(.POST, "/api/paliadin/turn/\(long)/cancel").status == 202)
            #expect(try await onA.stream(long).last?.errorCode == "cancelled")
        }
    }
}

@Suite(
    "PostgreSQL schema from the command line",
    .enabled(if: ClusterFixture.serverURL != nil, "needs the PostgreSQL server that scripts/cluster-test.sh starts"))
struct PostgresSchemaCommandTests {
    @Test("paliadin migrate creates the schema; serve refuses a schema newer than it knows")
    func migrateAndRefuseNewer() async throws {
        let database = try await ClusterFixture.freshDatabase()
        let migrated = try ClusterFixture.runPaliadin(["migrate", "--database", database])
        #expect(migrated.status == 0, "\(migrated.output)")
        #expect(migrated.output.contains("up to date"))
        #expect(try ClusterFixture.runPaliadin(["migrate", "--database", database]).status == 0, "running it again changes nothing")

        try await ClusterFixture.execute("INSERT INTO schema_version (version) VALUES (9999)", on: database)
        let refused = try ClusterFixture.runPaliadin(
            ["serve", "--listen", "127.0.0.1:\(try await PaliadinProcess.freePort())", "--database", database, "--dev-user", "dev@x"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("newer than this Paliadin knows"), "\(refused.output)")
        let migrateRefused = try ClusterFixture.runPaliadin(["migrate", "--database", database])
        #expect(migrateRefused.status != 0)
        #expect(migrateRefused.output.contains("newer than this Paliadin knows"))
        try await ClusterFixture.dropDatabase(database)
    }

    @Test("a bad database URL is a clear error that never shows the password")
    func badURL() throws {
        let result = try ClusterFixture.runPaliadin(["migrate", "--database", "postgres://someone:s3cret-pass@127.0.0.1:notaport/db"])
        #expect(result.status != 0)
        #expect(!result.output.contains("s3cret-pass"), "\(result.output)")
        #expect(result.output.lowercased().contains("invalid database url"), "\(result.output)")
    }
}

