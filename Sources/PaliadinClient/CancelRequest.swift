import Synchronization

/// What one turn's Ctrl-C has asked for, shared by the task that starts the turn, the one that
/// watches for Ctrl-C, and `ask` when it leaves. Ctrl-C may come before the turn's id is
/// known: the cancel is then sent as soon as it is, and when the client has left by then, by
/// whoever is still there.
final class CancelRequest: Sendable {
    /// What the starter does once it has the turn's id.
    enum StartAction: Equatable, Sendable {
        /// Follow the turn.
        case follow
        /// Ctrl-C came while the turn was being started: follow it, and cancel it now.
        case followAndCancel
        /// The client left (Ctrl-C twice) while the turn was being started: cancel it, follow nothing.
        case cancelLeftTurn
    }

    private struct State {
        var turnID: String?
        /// Ctrl-C was pressed: the turn is to be cancelled.
        var wanted = false
        /// The cancel has been handed to someone to send.
        var sent = false
        /// The client has left without waiting.
        var left = false
        /// What the server answered to the cancel.
        var answer: Answer?
    }

    /// The server's answer to the cancel.
    enum Answer: Equatable, Sendable {
        /// The turn is being stopped.
        case accepted
        /// The turn had already ended (the refusal has been shown).
        case refused
    }

    private let state = Mutex(State())

    /// The turn's id, once it is known.
    var turnID: String? { state.withLock { $0.turnID } }

    /// True once Ctrl-C asked for the turn to be cancelled.
    var wasWanted: Bool { state.withLock { $0.wanted } }

    /// True once the client has left without waiting.
    var hasLeft: Bool { state.withLock { $0.left } }

    /// The server's answer to the cancel, once it came.
    var answer: Answer? { state.withLock { $0.answer } }

    /// The turn has started: what to do about it.
    func turnStarted(_ id: String) -> StartAction {
        state.withLock { state in
            state.turnID = id
            if state.left {
                state.sent = true
                return .cancelLeftTurn
            }
            guard state.wanted, !state.sent else { return .follow }
            state.sent = true
            return .followAndCancel
        }
    }

    /// Ctrl-C: the turn to cancel now, or nil when its id is not known yet (then it is
    /// cancelled once it is) or the cancel is already on its way.
    func interrupted() -> String? {
        state.withLock { state in
            state.wanted = true
            guard let id = state.turnID, !state.sent else { return nil }
            state.sent = true
            return id
        }
    }

    /// The client leaves without waiting; true when the turn's id is not known yet (the turn
    /// may still start, and is then cancelled by its starter).
    func leave() -> Bool {
        state.withLock { state in
            state.left = true
            return state.turnID == nil
        }
    }

    /// The server answered the cancel.
    func answered(_ answer: Answer) {
        state.withLock { $0.answer = answer }
    }
}
