import PaliadinCore
import Synchronization

/// The turns running in this process: their live logs and stop signals.
public final class LiveTurnHub: Sendable {
    /// One running turn.
    public struct Entry: Sendable {
        /// Whose turn it is, so readers can be checked without a database read.
        public let userID: String
        public let log: LiveTurnLog
        public let control: TurnControl
    }

    private struct State {
        var entries: [TurnID: Entry] = [:]
        /// Ended turns whose end could not be saved: kept so their readers still get the last
        /// event (until a restart closes the rows as interrupted).
        var stranded: [TurnID: Entry] = [:]
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    func register(_ turnID: TurnID, userID: String) -> Entry {
        let entry = Entry(userID: userID, log: LiveTurnLog(turnID: turnID), control: TurnControl())
        state.withLock { $0.entries[turnID] = entry }
        return entry
    }

    /// Forgets a turn that ended. With `stranded`, its complete log stays readable.
    func remove(_ turnID: TurnID, stranded: Bool = false) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let entry = state.entries.removeValue(forKey: turnID)
            if stranded, let entry { state.stranded[turnID] = entry }
            guard state.entries.isEmpty else { return [] }
            defer { state.emptyWaiters = [] }
            return state.emptyWaiters
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once no turn runs here.
    func waitUntilEmpty() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let empty = state.withLock { state -> Bool in
                if state.entries.isEmpty { return true }
                state.emptyWaiters.append(continuation)
                return false
            }
            if empty { continuation.resume() }
        }
    }

    /// The running turn, if it runs here.
    public func entry(for turnID: TurnID) -> Entry? {
        state.withLock { $0.entries[turnID] ?? $0.stranded[turnID] }
    }

    /// How many turns run here now.
    public var count: Int { state.withLock { $0.entries.count } }

    /// Every running turn's stop signal.
    var controls: [TurnControl] { state.withLock { $0.entries.values.map(\.control) } }

    /// Wakes every waiting reader of every running turn with a keep-alive tick.
    func tickAll() {
        let logs = state.withLock { $0.entries.values.map(\.log) }
        for log in logs { log.tick() }
    }
}
