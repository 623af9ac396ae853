import PaliadinCore
import Synchronization

/// Wakes the readers of turns that run in another instance when the shared store says the
/// turn's log grew, so they read the new events at once instead of at their next poll.
///
/// A reader starts watching *before* it reads the store and waits with its ticket afterwards: a signal
/// that arrives between the read and the wait is not missed. Only turns someone waits for
/// are tracked, so memory follows the number of such readers, not the number of turns.
public final class RemoteTurnSignals: Sendable {
    /// A reader's place in one turn's signals.
    public struct Ticket: Sendable {
        let turnID: TurnID
        let generation: UInt64
    }

    private struct Watched {
        var generation: UInt64 = 0
        var readers = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private struct State {
        var turns: [TurnID: Watched] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Starts watching the turn for one reader and returns its current place, to wait from
    /// after reading the store. Pair with `release`.
    public func watch(_ turnID: TurnID) -> Ticket {
        state.withLock { state in
            state.turns[turnID, default: Watched()].readers += 1
            return Ticket(turnID: turnID, generation: state.turns[turnID]!.generation)
        }
    }

    /// Stops one reader's watch of the turn.
    public func release(_ turnID: TurnID) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var watched = state.turns[turnID] else { return [] }
            watched.readers -= 1
            guard watched.readers <= 0 else {
                state.turns[turnID] = watched
                return []
            }
            state.turns[turnID] = nil
            return Array(watched.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// The turn's log grew (or may have): wakes its waiting readers.
    public func signal(_ turnID: TurnID) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard var watched = state.turns[turnID] else { return [] }
            watched.generation &+= 1
            let woken = Array(watched.waiters.values)
            watched.waiters.removeAll()
            state.turns[turnID] = watched
            return woken
        }
        for waiter in woken { waiter.resume() }
    }

    /// Signals may have been missed (the store's notifications were down): wakes every reader.
    public func signalAll() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            var woken: [CheckedContinuation<Void, Never>] = []
            for turnID in Array(state.turns.keys) {
                state.turns[turnID]!.generation &+= 1
                woken += state.turns[turnID]!.waiters.values
                state.turns[turnID]!.waiters.removeAll()
            }
            return woken
        }
        for waiter in woken { waiter.resume() }
    }

    /// Waits until the turn is signalled after `ticket` was taken, or at most `timeout` on
    /// `clock` (the fallback when a notification is lost), or until the task is cancelled.
    public func wait(_ ticket: Ticket, timeout: Duration, clock: EngineClock) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal(ticket) }
            group.addTask { try? await clock.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal(_ ticket: Ticket) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    guard !Task.isCancelled, let watched = state.turns[ticket.turnID], watched.generation == ticket.generation else {
                        return true
                    }
                    state.turns[ticket.turnID]!.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.turns[ticket.turnID]?.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
