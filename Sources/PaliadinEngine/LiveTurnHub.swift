import PaliadinCore
import PaliadinStore
import Synchronization
import Tracing

/// The turns running in this process: their live logs and stop signals.
public final class LiveTurnHub: Sendable {
    /// One running turn.
    public struct Entry: Sendable {
        /// Whose turn it is, so readers can be checked without a database read.
        public let userID: String
        public let log: LiveTurnLog
        public let control: TurnControl
        /// The turn's span, when tracing is on: whoever closes the turn ends it.
        let span: (any Span)?
    }

    private struct State {
        var entries: [TurnID: Entry] = [:]
        /// Ended turns whose end could not be saved: kept so their readers still get the last
        /// event (until a restart closes the rows as interrupted).
        var stranded: [TurnID: Entry] = [:]
        var emptyWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        var registered = 0
        /// Per user: turns registered plus places reserved for turns about to be.
        var byUser: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Holds a place for a turn of `userID` about to start, when fewer than `limit` of theirs
    /// run or are about to (always, without a limit). Register the turn with `reserved`, or
    /// give the place back with `release(userID:)`.
    func reserve(userID: String, limit: Int?) -> Bool {
        state.withLock { state in
            let current = state.byUser[userID, default: 0]
            if let limit, current >= limit { return false }
            state.byUser[userID] = current + 1
            return true
        }
    }

    /// Gives back a place `reserve` held, for a turn that will not start.
    func release(userID: String) {
        state.withLock { Self.decrement(&$0.byUser, userID) }
    }

    /// Adds a running turn whose events `writer` writes; a failed write stops the turn.
    func register(_ turnID: TurnID, userID: String, writer: EventLogWriter, reserved: Bool = false, span: (any Span)? = nil) -> Entry {
        let control = TurnControl()
        let log = LiveTurnLog(turnID: turnID, writer: writer) { control.stop(.storeFailed) }
        let entry = Entry(userID: userID, log: log, control: control, span: span)
        state.withLock { state in
            state.entries[turnID] = entry
            state.registered += 1
            if !reserved { state.byUser[userID, default: 0] += 1 }
        }
        return entry
    }

    private static func decrement(_ counts: inout [String: Int], _ userID: String) {
        guard let count = counts[userID] else { return }
        counts[userID] = count > 1 ? count - 1 : nil
    }

    /// Forgets a turn that ended. With `stranded`, its complete log stays readable.
    func remove(_ turnID: TurnID, stranded: Bool = false) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let entry = state.entries.removeValue(forKey: turnID)
            if let entry { Self.decrement(&state.byUser, entry.userID) }
            if stranded, let entry { state.stranded[turnID] = entry }
            guard state.entries.isEmpty else { return [] }
            defer { state.emptyWaiters = [:] }
            return Array(state.emptyWaiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once no turn runs here, or when the task is cancelled.
    func waitUntilEmpty() async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.entries.isEmpty || Task.isCancelled { return true }
                    state.emptyWaiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.emptyWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Removes and returns the turns still registered (for closing them when their runners
    /// will never run, as after a hard cancellation).
    func removeAll() -> [TurnID: Entry] {
        let (left, woken) = state.withLock { state -> ([TurnID: Entry], [CheckedContinuation<Void, Never>]) in
            let left = state.entries
            state.entries = [:]
            for entry in left.values { Self.decrement(&state.byUser, entry.userID) }
            defer { state.emptyWaiters = [:] }
            return (left, Array(state.emptyWaiters.values))
        }
        for waiter in woken { waiter.resume() }
        return left
    }

    /// The running turn, if it runs here.
    public func entry(for turnID: TurnID) -> Entry? {
        state.withLock { $0.entries[turnID] ?? $0.stranded[turnID] }
    }

    /// How many turns run here now.
    public var count: Int { state.withLock { $0.entries.count } }

    /// How many turns of `userID` run here now (or are about to).
    public func runningCount(of userID: String) -> Int { state.withLock { $0.byUser[userID, default: 0] } }

    /// How many turns have started here since the process began.
    public var startedCount: Int { state.withLock { $0.registered } }

    /// The turns running here.
    var runningTurnIDs: [TurnID] { state.withLock { Array($0.entries.keys) } }

    /// Every running turn's stop signal.
    var controls: [TurnControl] { state.withLock { $0.entries.values.map(\.control) } }

    /// Wakes every waiting reader of every running turn with a keep-alive tick.
    func tickAll() {
        let logs = state.withLock { $0.entries.values.map(\.log) }
        for log in logs { log.tick() }
    }
}
