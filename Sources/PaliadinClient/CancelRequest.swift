import Synchronization

/// Who sends the cancel: Ctrl-C may come before the turn's id is known, and then the task
/// that starts the turn sends it as soon as it has the id.
final class CancelRequest: Sendable {
    private enum State {
        case waiting
        case started(String)
        case wanted
        case sent(String)
    }

    private let state = Mutex(State.waiting)

    /// The turn's id, once it is known.
    var turnID: String? {
        state.withLock { state in
            switch state {
            case .started(let id), .sent(let id): id
            case .waiting, .wanted: nil
            }
        }
    }

    /// The turn has started; true when a cancel was asked for before and is to be sent now.
    func turnStarted(_ id: String) -> Bool {
        state.withLock { state in
            if case .wanted = state {
                state = .sent(id)
                return true
            }
            state = .started(id)
            return false
        }
    }

    /// Ctrl-C: the turn to cancel now, or nil when its id is not known yet (then it is cancelled once it is).
    func interrupted() -> String? {
        state.withLock { state in
            switch state {
            case .waiting:
                state = .wanted
                return nil
            case .started(let id):
                state = .sent(id)
                return id
            case .wanted, .sent:
                return nil
            }
        }
    }
}
