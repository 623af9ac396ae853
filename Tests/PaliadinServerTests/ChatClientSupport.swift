import Foundation
import PaliadinClient
import PaliadinCore
import PaliadinTestSupport
import Synchronization
import Testing

/// Something a test waited for did not happen in time.
struct ChatWaitTimedOut: Error, CustomStringConvertible {
    let description: String
}

/// The timeout of the chat tests' waits unless told otherwise: far beyond what any of them
/// should take, so that a wait that would hang fails with a message instead.
let chatWaitTimeout: Duration = .seconds(30)

/// Text that grows (what a client printed, what a process wrote) and the tasks waiting for it
/// to satisfy a condition, each with a timeout.
final class WatchedText: Sendable {
    private struct Waiter {
        let condition: @Sendable (String, Bool) -> Bool
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var text = ""
        var ended = false
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state = Mutex(State())
    private let name: String

    init(name: String) {
        self.name = name
    }

    /// Everything so far.
    var text: String { state.withLock { $0.text } }

    /// Adds `more`; `ended` says nothing more will come.
    func append(_ more: String, ended: Bool = false) {
        let ready = state.withLock { state in
            state.text += more
            state.ended = state.ended || ended
            let (text, ended) = (state.text, state.ended)
            let ready = state.waiters.filter { $0.value.condition(text, ended) }
            for id in ready.keys { state.waiters.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once the text and whether it has ended satisfy `condition`; throws
    /// `ChatWaitTimedOut` after `timeout`.
    func wait(
        timeout: Duration = chatWaitTimeout, sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: @escaping @Sendable (String, Bool) -> Bool
    ) async throws {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let name = self.name
        let timer = Task {
            try await Task.sleep(for: timeout)
            let (waiter, text) = self.state.withLock { ($0.waiters.removeValue(forKey: id), $0.text) }
            waiter?.continuation.resume(
                throwing: ChatWaitTimedOut(
                    description: "\(name) did not show what \(sourceLocation) waits for in \(timeout); it is: \(text.suffix(400).debugDescription)"))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let now: Result<Void, any Error>? = state.withLock { state in
                    if condition(state.text, state.ended) { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = Waiter(condition: condition, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}

/// Records what the chat client prints, as it would reach the terminal, and lets a test wait
/// for something to have been printed.
final class CapturedChatOutput: ChatOutput {
    let errorIsTerminal: Bool
    private let output = WatchedText(name: "standard output")
    private let error = WatchedText(name: "standard error")

    init(errorIsTerminal: Bool = false) {
        self.errorIsTerminal = errorIsTerminal
    }

    /// Everything written to standard output.
    var standardOutput: String { output.text }
    /// Everything written to standard error.
    var standardError: String { error.text }

    func write(_ text: String, to stream: ChatOutputStream) {
        switch stream {
        case .standardOutput: output.append(text)
        case .standardError: error.append(text)
        }
    }

    /// Returns once standard output satisfies `condition`; throws after `chatWaitTimeout`.
    func waitForOutput(sourceLocation: SourceLocation = #_sourceLocation, _ condition: @escaping @Sendable (String) -> Bool) async throws {
        try await waitFor(.standardOutput, sourceLocation: sourceLocation, condition)
    }

    /// Returns once `stream` satisfies `condition`; throws after `chatWaitTimeout`.
    func waitFor(
        _ stream: ChatOutputStream, sourceLocation: SourceLocation = #_sourceLocation, _ condition: @escaping @Sendable (String) -> Bool
    ) async throws {
        try await (stream == .standardOutput ? output : error).wait(sourceLocation: sourceLocation) { text, _ in condition(text) }
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

    /// The stored row of the latest turn asking `message`, once there is one (the request
    /// may still be on its way).
    func eventualRow(asking message: String) async throws -> TurnRecord {
        for _ in 0..<1200 {
            if let row = try await harness.store.recentTurns(limit: 50).first(where: { $0.userMessage == message }) { return row }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestFailure("no turn asked \(message)")
    }
}
