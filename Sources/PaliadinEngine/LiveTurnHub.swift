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
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    func register(_ turnID: TurnID, userID: String) -> Entry {
        let entry = Entry(userID: userID, log: LiveTurnLog(turnID: turnID), control: TurnControl())
        state.withLock { $0.entries[turnID] = entry }
        return entry
    }

    func remove(_ turnID: TurnID) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.entries.removeValue(forKey: turnID)
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
        state.withLock { $0.entries[turnID] }
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
