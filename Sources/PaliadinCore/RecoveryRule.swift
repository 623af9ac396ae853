import Foundation

/// What `recover` tells a browser about a turn it lost track of.
public enum RecoveryState: String, Sendable, Codable {
    /// An answer exists.
    case recovered
    /// Still running: ask again.
    case pending
    /// Finished without an answer, or pending for longer than anyone should wait.
    case lost
}

/// Decides the recovery state of a turn.
public struct RecoveryRule: Sendable {
    /// A turn still pending after this long counts as lost (default 12 min).
    public var giveUpAfter: Duration

    public init(giveUpAfter: Duration = .seconds(12 * 60)) {
        self.giveUpAfter = giveUpAfter
    }

    public func state(status: TurnStatus, response: String, startedAt: Date, now: Date) -> RecoveryState {
        if !response.isEmpty { return .recovered }
        if status.isFinal { return .lost }
        let age = now.timeIntervalSince(startedAt)
        let limit = Double(giveUpAfter.components.seconds) + Double(giveUpAfter.components.attoseconds) / 1e18
        return age > limit ? .lost : .pending
    }
}
