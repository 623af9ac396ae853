import Foundation
import PaliadinCore
import PaliadinEngine
import PaliadinStore
import PaliadinTestSupport
import ServiceLifecycleTestKit
import Testing

@Suite("Per-user turn limits")
struct UserTurnLimitsTests {
    static func turn(_ user: String, _ message: String = "mock:silent") -> NewTurn {
        NewTurn(userID: user, sessionID: "s", userMessage: message, pageOrigin: nil, context: nil)
    }

    @Test("running turns per user: the next is refused until one ends; other users are not held back; nothing is written")
    func concurrent() async throws {
        let store = try await TurnSupervisorTests.makeStore()
        try await MockOpenAIUpstream().run { baseURL in
            let supervisor = TurnSupervisorTests.supervisor(
                store: store, baseURL: baseURL, configuration: EngineConfiguration(shutdownGrace: .milliseconds(200), userLimits: UserTurnLimits(concurrentTurns: 2)))
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await supervisor.run() }
                    let first = try await supervisor.startTurn(Self.turn("a@x"))
                    _ = try await supervisor.startTurn(Self.turn("a@x"))
                    await #expect(throws: EngineError.tooManyRunningTurns(limit: 2)) { try await supervisor.startTurn(Self.turn("a@x")) }
                    #expect(try await store.recentTurns(limit: 10).count == 2, "a refused turn leaves no row")
                    _ = try await supervisor.startTurn(Self.turn("b@x"))
                    #expect(supervisor.hub.runningCount(of: "a@x") == 2)

                    #expect(supervisor.cancel(first.id))
                    try await TurnSupervisorTests.eventually("the cancelled turn to end") { supervisor.hub.runningCount(of: "a@x") == 1 }
                    _ = try await supervisor.startTurn(Self.turn("a@x"))
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                    #expect(supervisor.hub.runningCount(of: "a@x") == 0, "every place is given back when turns end")
                }
            }
        }
    }

    @Test("turns per minute, on the engine's clock: a burst, then one every 60/n s; each user has their own")
    func perMinute() async throws {
        let store = try await TurnSupervisorTests.makeStore()
        let clock = ManualClock()
        try await MockOpenAIUpstream().run { baseURL in
            let supervisor = TurnSupervisorTests.supervisor(
                store: store, baseURL: baseURL, configuration: EngineConfiguration(userLimits: UserTurnLimits(turnsPerMinute: 3)),
                clock: EngineClock(clock))
            try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await supervisor.run() }
                    for _ in 0..<3 { _ = try await supervisor.startTurn(Self.turn("a@x", "mock:chunks=1")) }
                    await #expect(throws: EngineError.tooManyTurnsPerMinute(limit: 3, retryAfter: .seconds(20))) {
                        try await supervisor.startTurn(Self.turn("a@x", "mock:chunks=1"))
                    }
                    _ = try await supervisor.startTurn(Self.turn("b@x", "mock:chunks=1"))
                    clock.advance(by: .seconds(15))
                    await #expect(throws: EngineError.tooManyTurnsPerMinute(limit: 3, retryAfter: .seconds(5))) {
                        try await supervisor.startTurn(Self.turn("a@x", "mock:chunks=1"))
                    }
                    clock.advance(by: .seconds(5))
                    _ = try await supervisor.startTurn(Self.turn("a@x", "mock:chunks=1"))
                    #expect(try await store.recentTurns(limit: 20).count == 5, "refused turns leave no row")
                    trigger.triggerGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test("a limit of zero or less means no limit, never a server that refuses everyone")
    func zeroMeansNone() {
        #expect(UserTurnLimits(turnsPerMinute: 0, concurrentTurns: -1) == .none)
        var limits = UserTurnLimits.serverDefault
        limits.turnsPerMinute = 0
        limits.concurrentTurns = 0
        #expect(limits == .none)
    }
}
