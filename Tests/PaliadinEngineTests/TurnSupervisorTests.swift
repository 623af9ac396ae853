import AsyncHTTPClient
import Foundation
import Logging
import PaliadinBackends
import PaliadinCore
import PaliadinEngine
import PaliadinStore
import PaliadinTestSupport
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@Suite("Turn supervisor: detached turns, clock-driven rules, graceful shutdown")
struct TurnSupervisorTests {
    static func makeStore() async throws -> SQLiteTurnStore {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-engine-\(UUID().uuidString)/db.sqlite").path
        let store = try SQLiteTurnStore(path: path)
        try await store.migrate()
        return store
    }

    static let client = OpenAICompatibleBackend.makeHTTPClient()

    static func supervisor(
        store: any TurnStore, baseURL: String, configuration: EngineConfiguration, clock: EngineClock = .continuous
    ) -> TurnSupervisor {
        let backend = OpenAICompatibleBackend(baseURL: baseURL, model: "m", apiKey: nil, httpClient: client)
        return TurnSupervisor(
            store: store, backend: backend, conversation: ConversationBuilder(systemPrompt: "test"), configuration: configuration,
            clock: clock, logger: Logger(label: "engine-test"))
    }

    static func newTurn(_ message: String) -> NewTurn {
        NewTurn(userID: "u@x", sessionID: "s", userMessage: message, pageOrigin: nil, context: nil)
    }

    /// Waits (yielding, bounded) until `condition` holds.
    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<2000 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        Issue.record("timed out waiting for \(what)")
        throw CancellationError()
    }

    @Test("with a manual clock: thinking every 5 s of silence, then upstream_silence at 90 s cancels the backend")
    func silenceOnManualClock() async throws {
        let store = try await Self.makeStore()
        let clock = ManualClock()
        try await MockOpenAIUpstream().run { baseURL in
            let supervisor = Self.supervisor(
                store: store, baseURL: baseURL, configuration: EngineConfiguration(), clock: EngineClock(clock))
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await supervisor.run() }
                    let record = try await supervisor.startTurn(Self.newTurn("mock:silent"))
                    let log = try #require(supervisor.hub.entry(for: record.id)?.log)
                    // The watch sleeps until 5 s, the keep-alive ticker until 25 s.
                    try await Self.eventually("the watch to sleep") { clock.sleeperCount >= 2 }
                    clock.advance(by: .seconds(5))
                    try await Self.eventually("a thinking event") { log.events(after: 0, limit: 10).events.contains { $0.kind == .thinking } }
                    let first = try #require(log.events(after: 0, limit: 10).events.first { $0.kind == .thinking })
                    #expect(try PayloadCoding.decode(ThinkingPayload.self, from: first.data) == ThinkingPayload(elapsedSeconds: 5, sinceFirst: false))
                    for _ in 0..<17 {
                        let before = log.events(after: 0, limit: 100).events.count
                        clock.advance(by: .seconds(5))
                        try await Self.eventually("the next tick") {
                            log.events(after: 0, limit: 100).events.count > before || log.events(after: 0, limit: 100).complete
                        }
                    }
                    try await Self.eventually("the turn to end") { try await store.turn(record.id)?.status.isFinal == true }
                    let row = try #require(try await store.turn(record.id))
                    #expect(row.status == .failed)
                    #expect(row.errorCode == TurnErrorCode.upstreamSilence)
                    let events = try await store.events(of: record.id, after: 0, limit: 100)
                    #expect(events.filter { $0.kind == .thinking }.count == 17)
                    #expect(events.last?.kind == .error)
                    #expect(events.map(\.seq) == Array(1...events.count))
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test("graceful shutdown: no new turns; a turn past the grace period is closed as interrupted with its partial text")
    func shutdownInterrupts() async throws {
        let store = try await Self.makeStore()
        try await MockOpenAIUpstream().run { baseURL in
            var configuration = EngineConfiguration()
            configuration.shutdownGrace = .milliseconds(300)
            let supervisor = Self.supervisor(store: store, baseURL: baseURL, configuration: configuration)
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await supervisor.run() }
                    let long = try await supervisor.startTurn(Self.newTurn("mock:chunks=1000 delay=20ms"))
                    let log = try #require(supervisor.hub.entry(for: long.id)?.log)
                    try await Self.eventually("some content") { log.events(after: 0, limit: 10).events.count >= 3 }
                    trigger.triggerGracefulShutdown()
                    try await Self.eventually("shutdown to begin") { !supervisor.isAccepting }
                    await #expect(throws: EngineError.shuttingDown) { try await supervisor.startTurn(Self.newTurn("too late")) }
                    try await group.waitForAll()
                    let row = try #require(try await store.turn(long.id))
                    #expect(row.status == .interrupted)
                    #expect(row.errorCode == TurnErrorCode.interrupted)
                    #expect(row.response.hasPrefix("t1 t2 "))
                    #expect(try await store.events(of: long.id, after: 0, limit: 5000).last?.kind == .error)
                    #expect(supervisor.hub.count == 0, "nothing is kept in memory past the end of a turn")
                }
            }
        }
    }

    @Test("graceful shutdown: a turn that ends within the grace period completes")
    func shutdownLetsShortTurnsFinish() async throws {
        let store = try await Self.makeStore()
        try await MockOpenAIUpstream().run { baseURL in
            var configuration = EngineConfiguration()
            configuration.shutdownGrace = .seconds(30)
            let supervisor = Self.supervisor(store: store, baseURL: baseURL, configuration: configuration)
            let started = ContinuousClock.now
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await supervisor.run() }
                    let short = try await supervisor.startTurn(Self.newTurn("mock:chunks=10 delay=20ms"))
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                    #expect(try await store.turn(short.id)?.status == .completed)
                    #expect(try await store.turn(short.id)?.response == MockOpenAIUpstream.chunkedAnswer(10))
                }
            }
            #expect(ContinuousClock.now - started < .seconds(30), "shutdown does not wait out the whole grace period")
        }
    }
}

@Suite("Turn supervisor: shutdown begun by a stream handler")
struct SupervisorEarlyShutdownTests {
    @Test("run() does not return before the service group asks, even when shutdown began elsewhere")
    func waitsForTheGroup() async throws {
        let store = try await TurnSupervisorTests.makeStore()
        try await MockOpenAIUpstream().run { baseURL in
            var configuration = EngineConfiguration()
            configuration.shutdownGrace = .milliseconds(100)
            let supervisor = TurnSupervisorTests.supervisor(store: store, baseURL: baseURL, configuration: configuration)
            let returned = Flag()
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await supervisor.run()
                        returned.set()
                    }
                    let turn = try await supervisor.startTurn(TurnSupervisorTests.newTurn("mock:chunks=1000 delay=20ms"))
                    supervisor.beginShutdown()
                    try await TurnSupervisorTests.eventually("the turn to be interrupted") {
                        try await store.turn(turn.id)?.status == .interrupted
                    }
                    try await TurnSupervisorTests.eventually("the live turn to be released") { supervisor.hub.count == 0 }
                    #expect(returned.isSet == false, "run() waits for the service group")
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                    #expect(returned.isSet)
                }
            }
        }
    }
}

/// A flag set once, readable from any task.
final class Flag: Sendable {
    private let state = Mutex(false)

    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}

@Suite("Turn supervisor: hard cancellation")
struct SupervisorCancellationTests {
    @Test("cancelling run() ends every turn, started or still queued, and does not hang")
    func hardCancel() async throws {
        let store = try await TurnSupervisorTests.makeStore()
        try await MockOpenAIUpstream().run { baseURL in
            let supervisor = TurnSupervisorTests.supervisor(store: store, baseURL: baseURL, configuration: EngineConfiguration())
            // Turns handed over before run() starts stay queued until it does.
            var logs: [LiveTurnLog] = []
            for _ in 0..<3 {
                let turn = try await supervisor.startTurn(TurnSupervisorTests.newTurn("mock:chunks=1000 delay=20ms"))
                logs.append(try #require(supervisor.hub.entry(for: turn.id)?.log))
            }
            let running = Task { try await supervisor.run() }
            running.cancel()
            try await running.value
            #expect(supervisor.hub.count == 0)
            await #expect(throws: EngineError.shuttingDown, "no turn is taken that nobody would run") {
                try await supervisor.startTurn(TurnSupervisorTests.newTurn("after the end"))
            }
            for log in logs {
                let (events, complete) = log.events(after: 0, limit: 5000)
                #expect(complete, "every reader gets a last event")
                #expect(events.last?.kind == .error)
            }
        }
    }
}
