import Synchronization

/// Ctrl-C presses, as an injectable source: the command feeds it from a SIGINT signal source,
/// tests call `send()` directly.
///
/// Interrupts are counted, never lost: a waiter asks for "the next interrupt after the `n`
/// I had already seen", so one pressed a moment before the wait began still counts.
public final class Interrupts: Sendable {
    private struct Waiter {
        let after: Int
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var count = 0
        var nextWaiterID: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state = Mutex(State())

    /// No interrupt yet.
    public init() {}

    /// Interrupts received so far.
    public var count: Int { state.withLock { $0.count } }

    /// Records one interrupt (one Ctrl-C) and wakes whoever waits for it.
    public func send() {
        let ready = state.withLock { state in
            state.count += 1
            let count = state.count
            let ids = state.waiters.filter { $0.value.after < count }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in ready { continuation.resume(returning: true) }
    }

    /// Waits until more than `seen` interrupts have arrived: true then, false when the
    /// waiting task is cancelled first.
    public func wait(after seen: Int) async -> Bool {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLock { state in
                    if state.count > seen { return true }
                    if Task.isCancelled { return false }
                    state.waiters[id] = Waiter(after: seen, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(returning: false)
        }
    }
}
