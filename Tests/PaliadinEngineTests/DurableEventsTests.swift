import Foundation
import Logging
import PaliadinBackends
import PaliadinCore
import PaliadinEngine
import PaliadinStore
import PaliadinTestSupport
import ServiceLifecycleTestKit
import Testing

/// What a reader is sent is already in the database, and a database that stops taking
/// writes fails the turn (not the server) with a last event that follows on from the
/// written ones.
@Suite("Durable events: readers see written events only; a failing database fails the turn")
struct DurableEventsTests {
    /// Reads a turn to its end, checking after each delivery that the store already holds
    /// exactly what was delivered. Returns the events.
    static func readCheckingStore(_ supervisor: TurnSupervisor, _ turnID: TurnID, store: any TurnStore) async throws -> [TurnEvent] {
        var reader = supervisor.reader(for: turnID, after: 0)
        var received: [TurnEvent] = []
        while let item = try await reader.next() {
            guard case .events(let events) = item else { continue }
            let stored = try await store.events(of: turnID, after: received.count, limit: events.count)
            try #require(stored == events, "events \(events.first?.seq ?? 0)…\(events.last?.seq ?? 0) reached a reader before they were written")
            received += events
        }
        return received
    }

    @Test("every event a reader receives is already written when it receives it (token by token and in bursts, several readers)")
    func readersSeeWrittenEventsOnly() async throws {
        let store = try await TurnSupervisorTests.makeStore()
        try await MockOpenAIUpstream().run { baseURL in
            let supervisor = TurnSupervisorTests.supervisor(store: store, baseURL: baseURL, configuration: EngineConfiguration())
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await supervisor.run() }
                    for message in ["mock:chunks=300 delay=1ms", "mock:chunks=500 together", "mock:chunks=200 burst"] {
                        let turn = try await supervisor.startTurn(TurnSupervisorTests.newTurn(message))
                        let readings = try await withThrowingTaskGroup(of: [TurnEvent].self) { readers in
                            for _ in 0..<3 { readers.addTask { try await Self.readCheckingStore(supervisor, turn.id, store: store) } }
                            return try await readers.reduce(into: []) { $0.append($1) }
                        }
                        let stored = try await store.events(of: turn.id, after: 0, limit: 10_000)
                        #expect(stored.last?.kind == .end, "\(message)")
                        for reading in readings { #expect(reading == stored, "\(message): each reader got the whole stored log") }
                    }
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    /// One way a database stops taking writes, set on the store's own (writer) connection.
    struct WriteFault: Sendable, CustomTestStringConvertible {
        let name: String
        let set: String
        let clear: String
        let says: String
        var testDescription: String { name }
    }

    static let faults = [
        WriteFault(name: "disk full", set: "PRAGMA max_page_count = 1", clear: "PRAGMA max_page_count = 1073741823", says: "full"),
        WriteFault(name: "read-only", set: "PRAGMA query_only = ON", clear: "PRAGMA query_only = OFF", says: "readonly"),
    ]

    @Test("the database stops taking writes mid-turn: the turn stops and ends in one error that follows the written events; the next turn works", arguments: faults)
    func databaseFailsAWrite(_ fault: WriteFault) async throws {
        let store = try await TurnSupervisorTests.makeStore()
        let log = CapturedLog()
        let clock = ManualClock()
        try await MockOpenAIUpstream().run { baseURL in
            let backend = OpenAICompatibleBackend(baseURL: baseURL, model: "m", apiKey: nil, httpClient: TurnSupervisorTests.client)
            let supervisor = TurnSupervisor(
                store: store, backend: backend, conversation: ConversationBuilder(systemPrompt: "test"), configuration: EngineConfiguration(),
                clock: EngineClock(clock), logger: log.logger(level: .warning))
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await supervisor.run() }
                    // 1,000 chunks 20 ms apart: 20 s if nothing stopped it.
                    let turn = try await supervisor.startTurn(TurnSupervisorTests.newTurn("mock:chunks=1000 delay=20ms"))
                    var reader = supervisor.reader(for: turn.id, after: 0)
                    var received: [TurnEvent] = []
                    while received.filter({ $0.kind == .content }).count < 3, let item = try await reader.next() {
                        if case .events(let events) = item { received += events }
                    }
                    try await store.executeForTesting(fault.set)
                    // The failure is retried (about 0.6 s), then the turn is stopped; its end
                    // is written once the database takes writes again.
                    try await TurnSupervisorTests.eventually("the failed write") {
                        log.all.contains { $0.contains("event log write failed") }
                    }
                    try await store.executeForTesting(fault.clear)
                    let reading = Task {
                        var rest: [TurnEvent] = []
                        while let item = try await reader.next() {
                            if case .events(let events) = item { rest += events }
                        }
                        return rest
                    }
                    // The end's write may have failed once while the database was refusing;
                    // its retries wait on the engine's clock.
                    try await TurnSupervisorTests.eventually("the turn to end") {
                        clock.advance(by: .seconds(1))
                        return try await store.turn(turn.id)?.status.isFinal == true
                    }
                    received += try await reading.value

                    let row = try #require(try await store.turn(turn.id))
                    #expect(row.status == .failed)
                    #expect(row.errorCode == TurnErrorCode.internalError)
                    #expect(row.errorMessage?.contains(fault.says) == true, "\(row.errorMessage ?? "")")
                    #expect(row.response.hasPrefix("t1 t2 t3 "), "the text that arrived is kept")
                    #expect(!row.response.hasSuffix("t1000 "), "the backend was stopped")
                    // The reader got exactly the stored log: ids without gap, one last error.
                    let stored = try await store.events(of: turn.id, after: 0, limit: 10_000)
                    #expect(received == stored)
                    #expect(received.map(\.seq) == Array(1...received.count))
                    #expect(received.filter(\.kind.isTerminal).count == 1)
                    #expect(received.last?.kind == .error)
                    // The runner lets go of the turn just after its last event is published.
                    try await TurnSupervisorTests.eventually("the turn to leave the hub") { supervisor.hub.count == 0 }

                    // The server goes on: the next turn completes.
                    let next = try await supervisor.startTurn(TurnSupervisorTests.newTurn("hello"))
                    try await TurnSupervisorTests.eventually("the next turn to end") {
                        try await store.turn(next.id)?.status.isFinal == true
                    }
                    #expect(try await store.turn(next.id)?.status == .completed)
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }
}
