import Synchronization

/// Ctrl-C presses, as an injectable source: the command feeds it from a SIGINT signal source,
/// tests call `send()` directly.
///
/// Presses are counted, and each is handed out once: `next()` takes the oldest press nobody
/// has taken yet (waiting for one when there is none), so a press made a moment before anyone
/// waits still counts, and no press counts twice. A press taken but not acted on (its taker
/// finished something else first) goes back with `putBack()`.
public final class Interrupts: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        /// Presses received.
        var count = 0
        /// Presses handed out by `next()` (and not put back).
        var handled = 0
        var nextWaiterID: UInt64 = 0
        /// Oldest first.
        var waiters: [Waiter] = []

        /// The waiter that gets a press not taken yet, if there are both.
        mutating func handOut() -> Waiter? {
            guard handled < count, !waiters.isEmpty else { return nil }
            handled += 1
            return waiters.removeFirst()
        }
    }

    private let state = Mutex(State())

    /// No interrupt yet.
    public init() {}

    /// Interrupts received so far.
    public var count: Int { state.withLock { $0.count } }

    /// Interrupts received and not yet taken by `next()`.
    public var pending: Int { state.withLock { $0.count - $0.handled } }

    /// Records one interrupt (one Ctrl-C) and hands it to the oldest waiter, if any.
    public func send() {
        let waiter = state.withLock { state -> Waiter? in
            state.count += 1
            return state.handOut()
        }
        waiter?.continuation.resume(returning: true)
    }

    /// Takes the oldest press not taken yet, waiting for one if need be: true then; false when
    /// the waiting task is cancelled first (and then no press was taken).
    public func next() async -> Bool {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { state in
                    if state.handled < state.count {
                        state.handled += 1
                        return true
                    }
                    if Task.isCancelled { return false }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    /// Gives back a press taken with `next()` that was not acted on: the next `next()` gets it.
    public func putBack() {
        let waiter = state.withLock { state -> Waiter? in
            precondition(state.handled > 0, "putBack() without a press taken")
            state.handled -= 1
            return state.handOut()
        }
        waiter?.continuation.resume(returning: true)
    }
}
