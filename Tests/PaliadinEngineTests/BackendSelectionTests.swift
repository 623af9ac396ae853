import Foundation
import Logging
import PaliadinCore
import PaliadinEngine
import PaliadinStore
import ServiceLifecycleTestKit
import Synchronization
import Testing

/// A backend that keeps the conversation itself, like a CLI agent: it records what it was
/// asked and gives each new conversation an id.
private final class StatefulBackend: ChatBackend {
    let name: String
    let model = "agent-model"
    let mode = TurnWatch.Mode.streaming
    let keepsConversation = true
    private let seen = Mutex<[BackendTurnRequest]>([])

    init(name: String) {
        self.name = name
    }

    var requests: [BackendTurnRequest] { seen.withLock { $0 } }

    func runTurn(_ request: BackendTurnRequest, events: @Sendable (BackendEvent) async -> Void) async throws {
        let count = seen.withLock { requests -> Int in
            requests.append(request)
            return requests.count
        }
        await events(.conversation(request.conversationID ?? "\(name)-conversation-\(count)"))
        await events(.chunk("answer \(count) from \(name)"))
    }
}

@Suite("Several backends: choosing one per turn, resuming a stateful backend's conversation")
struct BackendSelectionTests {
    @Test("a turn names its backend (or gets the default); the row records it; an unknown name is refused")
    func choosing() async throws {
        let store = try await TurnSupervisorTests.makeStore()
        let agent = StatefulBackend(name: "agent")
        let other = StatefulBackend(name: "other")
        let registry = try BackendRegistry([agent, other], defaultName: "other")
        #expect(registry.names == ["other", "agent"])
        #expect(throws: BackendRegistryError.self) { try BackendRegistry([agent, StatefulBackend(name: "agent")]) }
        #expect(throws: BackendRegistryError.self) { try BackendRegistry([agent], defaultName: "missing") }
        let supervisor = TurnSupervisor(
            store: store, backends: registry, conversation: ConversationBuilder(systemPrompt: "test"), logger: Logger(label: "test"))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await supervisor.run() }
                let first = try await supervisor.startTurn(Self.turn("hi"))
                let second = try await supervisor.startTurn(Self.turn("hi", backend: "agent"))
                for record in [first, second] {
                    try await TurnSupervisorTests.eventually("the turn to end") { try await store.turn(record.id)?.status == .completed }
                }
                #expect(try await store.turn(first.id)?.backend == "other")
                #expect(try await store.turn(second.id)?.backend == "agent")
                #expect(try await store.turn(second.id)?.model == "agent-model")
                await #expect(throws: EngineError.unknownBackend("nope")) { try await supervisor.startTurn(Self.turn("hi", backend: "nope")) }
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test("a stateful backend gets the session's conversation id back on the next turn, and none after a reset")
    func resuming() async throws {
        let store = try await TurnSupervisorTests.makeStore()
        let agent = StatefulBackend(name: "agent")
        let supervisor = TurnSupervisor(
            store: store, backend: agent, conversation: ConversationBuilder(systemPrompt: "test"), logger: Logger(label: "test"))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await supervisor.run() }
                func run(_ turn: NewTurn) async throws -> TurnRecord {
                    let record = try await supervisor.startTurn(turn)
                    try await TurnSupervisorTests.eventually("the turn to end") { try await store.turn(record.id)?.status == .completed }
                    return try #require(try await store.turn(record.id))
                }
                let first = try await run(Self.turn("one"))
                #expect(first.conversationID == "agent-conversation-1")
                _ = try await run(Self.turn("two"))
                _ = try await run(Self.turn("elsewhere", session: "s2"))
                try await store.resetConversation(userID: "u@x", at: Date())
                try await Task.sleep(for: .milliseconds(5))  // the store keeps milliseconds: start after the reset
                _ = try await run(Self.turn("after reset"))
                #expect(agent.requests.map(\.conversationID) == [nil, "agent-conversation-1", nil, nil])
                #expect(agent.requests[1].messages.map(\.role) == [.system, .user], "a stateful backend gets only the new message")
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    static func turn(_ message: String, session: String = "s", backend: String? = nil) -> NewTurn {
        NewTurn(userID: "u@x", sessionID: session, userMessage: message, pageOrigin: nil, context: nil, backendName: backend)
    }
}
