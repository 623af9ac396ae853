import PaliadinCore

/// Settings of the turn engine.
public struct EngineConfiguration: Sendable {
    /// Silence, thinking and deadline rules.
    public var timing: TurnTimingPolicy
    /// How often idle readers get a `ping` (default 25 s).
    public var pingInterval: Duration
    /// On shutdown, how long running turns may go on before they are closed as `interrupted`.
    public var shutdownGrace: Duration
    /// How often a reader of a turn that runs in no process it can see looks at the store again.
    public var storePollInterval: Duration
    /// The most earlier exchanges loaded for a stateless backend's conversation.
    public var historyTurns: Int
    /// How many turns one user may start per minute and run at once (none by default here;
    /// the server applies `UserTurnLimits.serverDefault`).
    public var userLimits: UserTurnLimits
    /// Whether the per-turn log line carries the user's message and the answer (off: message
    /// text never reaches the log).
    public var logsMessageText: Bool

    public init(
        timing: TurnTimingPolicy = TurnTimingPolicy(),
        pingInterval: Duration = .seconds(25),
        shutdownGrace: Duration = .seconds(10),
        storePollInterval: Duration = .milliseconds(250),
        historyTurns: Int = 20,
        userLimits: UserTurnLimits = .none,
        logsMessageText: Bool = false
    ) {
        self.timing = timing
        self.pingInterval = pingInterval
        self.shutdownGrace = shutdownGrace
        self.storePollInterval = storePollInterval
        self.historyTurns = historyTurns
        self.userLimits = userLimits
        self.logsMessageText = logsMessageText
    }
}
