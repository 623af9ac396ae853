import Foundation
import PaliadinClient
import PaliadinCore
import PaliadinTestSupport
import Synchronization
import Testing

/// Records what the chat client prints, as it would reach the terminal, and lets a test wait
/// for something to have been printed.
final class CapturedChatOutput: ChatOutput {
    let errorIsTerminal: Bool

    private struct Waiter {
        let stream: ChatOutputStream
        let condition: @Sendable (String) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var output = ""
        var error = ""
        var waiters: [Waiter] = []

        func text(_ stream: ChatOutputStream) -> String { stream == .standardOutput ? output : error }
    }

    private let state = Mutex(State())

    init(errorIsTerminal: Bool = false) {
        self.errorIsTerminal = errorIsTerminal
    }

    /// Everything written to standard output.
    var standardOutput: String { state.withLock { $0.output } }
    /// Everything written to standard error.
    var standardError: String { state.withLock { $0.error } }

    func write(_ text: String, to stream: ChatOutputStream) {
        let ready = state.withLock { state in
            switch stream {
            case .standardOutput: state.output += text
            case .standardError: state.error += text
            }
            let current = state
            let ready = state.waiters.filter { $0.condition(current.text($0.stream)) }
            state.waiters.removeAll { $0.condition(current.text($0.stream)) }
            return ready.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once standard output satisfies `condition`.
    func waitForOutput(_ condition: @escaping @Sendable (String) -> Bool) async {
        await waitFor(.standardOutput, condition)
    }

    /// Returns once `stream` satisfies `condition`.
    func waitFor(_ stream: ChatOutputStream, _ condition: @escaping @Sendable (String) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if condition(state.text(stream)) { return true }
                state.waiters.append(Waiter(stream: stream, condition: condition, continuation: continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}

extension LiveClient {
    /// A chat configuration for this server (or a proxy in front of it on `port`), as the owner
    /// unless `token` says otherwise, quick to resume.
    func chatConfiguration(port: Int? = nil, token: String? = nil, giveUpAfter: Duration = .seconds(20)) -> ChatConfiguration {
        ChatConfiguration(
            server: "http://127.0.0.1:\(port ?? self.port)", token: token ?? harness.ownerToken,
            resume: ResumePolicy(defaultDelay: .milliseconds(20), maxDelay: .milliseconds(200), giveUpAfter: giveUpAfter))
    }

    /// The stored row of a turn the client started, once it has ended.
    func finishedRow(_ turnID: String?) async throws -> TurnRecord {
        let turnID = try #require(turnID.flatMap { TurnID($0) })
        _ = try await waitUntilFinished(turnID.description)
        return try #require(try await harness.store.turn(turnID))
    }

    /// The stored row of the latest turn asking `message`.
    func row(asking message: String) async throws -> TurnRecord {
        let rows = try await harness.store.recentTurns(limit: 50)
        return try #require(rows.first { $0.userMessage == message }, "no turn asked \(message)")
    }
}
