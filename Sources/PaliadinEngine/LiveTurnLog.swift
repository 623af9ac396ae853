import PaliadinCore
import Synchronization

/// The in-memory event log of a turn running in this process.
///
/// It numbers events as they are emitted and lets any number of readers wait for the
/// next one. A reader keeps only a cursor (the last sequence number it sent), never a
/// queue of its own: a slow reader falls behind and catches up at its own pace, and
/// memory does not grow with the number of readers.
public final class LiveTurnLog: Sendable {
    /// Why `wait` returned.
    public enum Wake: Sendable {
        /// There are events after the cursor, or the log is complete.
        case events
        /// The keep-alive ticker fired: time to send a `ping` if nothing else went out.
        case tick
    }

    private struct State {
        var events: [TurnEvent] = []
        /// Set once the last event is numbered; nothing can be emitted after it.
        var sealed = false
        /// Set once the last event is visible to readers.
        var complete = false
        var waiters: [Int: CheckedContinuation<Wake, Never>] = [:]
        var nextWaiter = 0

        mutating func takeWaiters() -> [CheckedContinuation<Wake, Never>] {
            guard !waiters.isEmpty else { return [] }
            let woken = Array(waiters.values)
            waiters.removeAll(keepingCapacity: true)
            return woken
        }
    }

    public let turnID: TurnID
    private let state = Mutex(State())

    public init(turnID: TurnID) {
        self.turnID = turnID
    }

    /// Numbers and publishes an event; `nil` once the log is sealed.
    ///
    /// `persist` is called with the numbered event while the log is still locked, so events
    /// reach it in sequence order even when several tasks emit at once. It must not block.
    public func emit(_ kind: TurnEventKind, data: String, persist: (TurnEvent) -> Void = { _ in }) -> TurnEvent? {
        precondition(!kind.isTerminal, "terminal events go through seal/publishSealed")
        let (event, woken) = state.withLock { state -> (TurnEvent?, [CheckedContinuation<Wake, Never>]) in
            guard !state.sealed else { return (nil, []) }
            let event = TurnEvent(turnID: turnID, seq: state.events.count + 1, kind: kind, data: data)
            state.events.append(event)
            persist(event)
            return (event, state.takeWaiters())
        }
        for waiter in woken { waiter.resume(returning: .events) }
        return event
    }

    /// Numbers the last event without publishing it, so it can be made durable first.
    /// `nil` when the log is already sealed.
    public func seal(_ kind: TurnEventKind, data: String) -> TurnEvent? {
        precondition(kind.isTerminal, "only end and error close a turn")
        return state.withLock { state in
            guard !state.sealed else { return nil }
            state.sealed = true
            return TurnEvent(turnID: turnID, seq: state.events.count + 1, kind: kind, data: data)
        }
    }

    /// Publishes the sealed last event; readers then finish.
    public func publish(last event: TurnEvent) {
        let woken = state.withLock { state -> [CheckedContinuation<Wake, Never>] in
            guard state.sealed, !state.complete, event.seq == state.events.count + 1 else { return [] }
            state.events.append(event)
            state.complete = true
            return state.takeWaiters()
        }
        for waiter in woken { waiter.resume(returning: .events) }
    }

    /// Events after `seq`, at most `limit`, and whether the log is complete.
    public func events(after seq: Int, limit: Int) -> (events: [TurnEvent], complete: Bool) {
        state.withLock { state in
            let start = max(seq, 0)
            guard start < state.events.count else { return ([], state.complete) }
            let end = min(state.events.count, start + limit)
            return (Array(state.events[start..<end]), state.complete)
        }
    }

    /// Text of the content events so far.
    public var partialText: String {
        state.withLock { state in
            state.events.reduce(into: "") { text, event in
                guard event.kind == .content, let payload = try? PayloadCoding.decode(ContentPayload.self, from: event.data) else { return }
                text += payload.addedText
            }
        }
    }

    /// Waits until there is an event after `seq`, the log is complete, the keep-alive ticks,
    /// or the task is cancelled (the caller then finds the task cancelled).
    public func wait(after seq: Int) async -> Wake {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Wake, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.events.count > seq || state.complete || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume(returning: .events) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: .tick)
        }
    }

    /// Wakes every waiting reader with `.tick`.
    public func tick() {
        let woken = state.withLock { $0.takeWaiters() }
        for waiter in woken { waiter.resume(returning: .tick) }
    }
}
