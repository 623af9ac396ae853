/// How many turns one user may start: a rate and a number running at once. Nil means no limit.
/// Counted per process (with several instances, each applies them on its own).
public struct UserTurnLimits: Sendable, Equatable {
    /// Turns a user may start per minute (a burst of this many, then one every 60/n seconds).
    public var turnsPerMinute: Int? { didSet { turnsPerMinute = turnsPerMinute.flatMap { $0 > 0 ? $0 : nil } } }
    /// Turns of one user running at the same time.
    public var concurrentTurns: Int? { didSet { concurrentTurns = concurrentTurns.flatMap { $0 > 0 ? $0 : nil } } }

    /// A value of zero or less means no limit (a limit of zero would refuse everyone).
    public init(turnsPerMinute: Int? = nil, concurrentTurns: Int? = nil) {
        self.turnsPerMinute = turnsPerMinute.flatMap { $0 > 0 ? $0 : nil }
        self.concurrentTurns = concurrentTurns.flatMap { $0 > 0 ? $0 : nil }
    }

    /// No limit at all.
    public static let none = UserTurnLimits()

    /// The server's defaults: room for a person chatting and retrying, not for a script
    /// hammering the backend.
    public static let serverDefault = UserTurnLimits(turnsPerMinute: 30, concurrentTurns: 4)
}
