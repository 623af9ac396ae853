import Synchronization

/// Why a turn was stopped before its backend finished.
public enum StopReason: Sendable, Equatable {
    /// The user asked to stop it.
    case cancelled
    /// The process is shutting down and the grace period is over.
    case interrupted
    /// The turn's events could not be written to the store.
    case storeFailed
}

/// The stop signal of one running turn: set once, awaited by the turn's runner.
public final class TurnControl: Sendable {
    private struct State {
        var reason: StopReason?
        var waiter: CheckedContinuation<StopReason?, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Asks the turn to stop; the first reason wins. Returns false when it was already asked.
    @discardableResult
    public func stop(_ reason: StopReason) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<StopReason?, Never>?) in
            guard state.reason == nil else { return (false, nil) }
            state.reason = reason
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(returning: reason)
        return accepted
    }

    /// The reason the turn was asked to stop, if it was.
    public var reason: StopReason? { state.withLock { $0.reason } }

    /// Returns when the turn is asked to stop, or `nil` when the waiting task is cancelled.
    /// One waiter at a time.
    public func waitForStop() async -> StopReason? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<StopReason?, Never>) in
                let immediate = state.withLock { state -> StopReason?? in
                    if let reason = state.reason { return .some(reason) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
