/// Where a turn is in its life. Only `running` is not final.
public enum TurnStatus: String, Sendable, Codable, CaseIterable {
    /// The backend is still working on it.
    case running
    /// Ended with an answer (`end` event).
    case completed
    /// Ended with an error from the backend, a silence or a deadline.
    case failed
    /// Stopped on request of the user.
    case cancelled
    /// Stopped because the process running it stopped (shutdown or crash).
    case interrupted

    /// True once the turn can no longer change.
    public var isFinal: Bool { self != .running }
}
