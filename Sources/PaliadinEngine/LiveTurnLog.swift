import PaliadinCore
import PaliadinStore
import Synchronization

/// The in-memory event log of a turn running in this process.
///
/// It numbers events as they are emitted, hands them to the event log writer, and lets any
/// number of readers wait for the next one. Readers see an event only once it is written:
/// what a reader was sent is never lost to a crash, and the event that closes the turn after
/// a crash (or a failed write) takes the next number after everything a reader saw.
///
/// A reader keeps only a cursor (the last sequence number it sent), never a queue of its
/// own: a slow reader falls behind and catches up at its own pace, and memory does not grow
/// with the number of readers.
public final class LiveTurnLog: EventWriteObserver {
    /// Why `wait` returned.
    public enum Wake: Sendable {
        /// There are events after the cursor, or the log is complete.
        case events
        /// The keep-alive ticker fired: time to send a `ping` if nothing else went out.
        case tick
    }

    private struct State {
        var events: [TurnEvent] = []
        /// How many of `events` are written, and so visible to readers.
        var durable = 0
        /// Set when a write of the turn's events failed: `durable` stops there.
        var writeFailed = false
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
    private let writer: EventLogWriter?
    private let onWriteFailure: @Sendable () -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - writer: where events go to be written; without one, events are visible at once.
    ///   - onWriteFailure: called once when a write of the turn's events fails for good.
    public init(turnID: TurnID, writer: EventLogWriter? = nil, onWriteFailure: @escaping @Sendable () -> Void = {}) {
        self.turnID = turnID
        self.writer = writer
        self.onWriteFailure = onWriteFailure
    }

    /// Numbers an event and hands it to the writer (readers see it once it is written);
    /// `nil` once the log is sealed.
    public func emit(_ kind: TurnEventKind, data: String) -> TurnEvent? {
        precondition(!kind.isTerminal, "terminal events go through seal/publish")
        let (event, woken, readerWaits) = state.withLock { state -> (TurnEvent?, [CheckedContinuation<Wake, Never>], Bool) in
            guard !state.sealed else { return (nil, [], false) }
            let event = TurnEvent(turnID: turnID, seq: state.events.count + 1, kind: kind, data: data)
            state.events.append(event)
            guard let writer else {
                state.durable = state.events.count
                return (event, state.takeWaiters(), false)
            }
            // Handed over under the lock, so the writer gets the events in sequence order
            // even when several tasks emit at once.
            writer.append(event, observer: self)
            return (event, [], !state.waiters.isEmpty)
        }
        for waiter in woken { waiter.resume(returning: .events) }
        if readerWaits { writer?.writeSoon() }
        return event
    }

    public func eventsWritten(through seq: Int) {
        let woken = state.withLock { state -> [CheckedContinuation<Wake, Never>] in
            let reached = min(seq, state.events.count)
            guard reached > state.durable, !state.complete else { return [] }
            state.durable = reached
            return state.takeWaiters()
        }
        for waiter in woken { waiter.resume(returning: .events) }
    }

    public func eventsNotWritten(_ error: any Error) {
        let first = state.withLock { state in
            defer { state.writeFailed = true }
            return !state.writeFailed
        }
        if first { onWriteFailure() }
    }

    /// Numbers the last event without publishing it, so it can be made durable first.
    /// `nil` when the log is already sealed.
    ///
    /// Call it once every event is written, or could not be: events that are not written
    /// (after a failed write) were never shown to a reader, and are dropped, so the last
    /// event follows on from the last written one.
    public func seal(_ kind: TurnEventKind, data: String) -> TurnEvent? {
        precondition(kind.isTerminal, "only end and error close a turn")
        return state.withLock { state in
            guard !state.sealed else { return nil }
            state.sealed = true
            state.events.removeSubrange(state.durable...)
            return TurnEvent(turnID: turnID, seq: state.durable + 1, kind: kind, data: data)
        }
    }

    /// Publishes the sealed last event; readers then finish.
    public func publish(last event: TurnEvent) {
        let woken = state.withLock { state -> [CheckedContinuation<Wake, Never>] in
            guard state.sealed, !state.complete, event.seq == state.events.count + 1 else { return [] }
            state.events.append(event)
            state.durable = state.events.count
            state.complete = true
            return state.takeWaiters()
        }
        for waiter in woken { waiter.resume(returning: .events) }
    }

    /// Written events after `seq`, at most `limit` and no more than fit in `maxBytes` of data
    /// (but always the first), and whether the log is complete.
    public func events(after seq: Int, limit: Int, maxBytes: Int = .max) -> (events: [TurnEvent], complete: Bool) {
        state.withLock { state in
            let start = max(seq, 0)
            guard start < state.durable else { return ([], state.complete) }
            var page = EventPage(maxBytes: maxBytes)
            for event in state.events[start..<min(state.durable, start + limit)] {
                guard page.add(event) else { break }
            }
            return (page.events, state.complete)
        }
    }

    /// Text of the written content events so far.
    public var partialText: String {
        state.withLock { state in
            state.events.prefix(state.durable).reduce(into: "") { text, event in
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
                let (ready, unwritten) = state.withLock { state -> (Bool, Bool) in
                    if state.durable > seq || state.complete || Task.isCancelled { return (true, false) }
                    state.waiters[id] = continuation
                    return (false, state.events.count > state.durable)
                }
                if ready { continuation.resume(returning: .events) }
                // A reader waits for events that are only pending: have them written now.
                if unwritten { writer?.writeSoon() }
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
