import AsyncHTTPClient
import Foundation
import PaliadinBackends
import PaliadinCore
import PaliadinEngine
import Synchronization

/// What `paliadin backends check` found for one backend.
public struct BackendCheckResult: Sendable, Equatable {
    public var name: String
    public var model: String
    public var isDefault: Bool
    /// True when the backend answered with some text.
    public var answered: Bool
    /// Milliseconds to the first text, and to the end.
    public var firstTextMS: Int?
    public var totalMS: Int
    /// The start of the answer, or why there was none.
    public var detail: String
}

/// Asks each configured backend a tiny question, all at once, each within a time limit.
public enum BackendCheck {
    /// The question every backend gets.
    static let question = "Reply with the single word OK."

    public static func run(
        _ configuration: AppConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment,
        timeout: Duration = .seconds(30)
    ) async throws -> [BackendCheckResult] {
        let client = OpenAICompatibleBackend.makeHTTPClient(maxConnections: 16)
        let registry: BackendRegistry
        do {
            registry = try BackendFactory.registry(for: configuration, environment: environment, httpClient: client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        let results = await withTaskGroup(of: BackendCheckResult.self) { group in
            for name in registry.names {
                guard let backend = registry.backend(named: name) else { continue }
                group.addTask { await check(backend, isDefault: name == registry.defaultName, timeout: timeout) }
            }
            var results: [BackendCheckResult] = []
            for await result in group { results.append(result) }
            return results
        }
        try? await client.shutdown()
        return registry.names.compactMap { name in results.first { $0.name == name } }
    }

    static func check(_ backend: any ChatBackend, isDefault: Bool, timeout: Duration) async -> BackendCheckResult {
        let clock = ContinuousClock()
        let start = clock.now
        let text = CollectedText()
        let request = BackendTurnRequest(
            turnID: TurnID(), userID: "paliadin-check", sessionID: "paliadin-check",
            messages: [ConversationMessage(role: .user, content: question)], conversationID: nil)
        let outcome: String? = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await backend.runTurn(request) { event in
                        guard case .chunk(let piece) = event else { return }
                        text.state.withLock { state in
                            if state.1 == nil { state.1 = clock.now - start }
                            state.0 += piece
                        }
                    }
                    return nil
                } catch let failure as BackendFailure {
                    return "\(failure.code): \(failure.message)"
                } catch {
                    return Task.isCancelled ? "no answer within \(timeout)" : "\(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return Task.isCancelled ? nil : "no answer within \(timeout)"
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        let (answer, firstText) = text.state.withLock { $0 }
        let answered = outcome == nil && !answer.isEmpty
        return BackendCheckResult(
            name: backend.name, model: backend.model, isDefault: isDefault, answered: answered,
            firstTextMS: firstText.map(milliseconds), totalMS: milliseconds(clock.now - start),
            detail: outcome ?? (answer.isEmpty ? "the backend answered without any text" : String(answer.prefix(80))))
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// The text a checked backend has sent so far, and when the first of it came.
private final class CollectedText: Sendable {
    let state = Mutex<(String, Duration?)>(("", nil))
}
