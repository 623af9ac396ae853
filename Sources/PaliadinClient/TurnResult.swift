/// What `ChatClient.ask` did: which turn, how it ended, and how often its stream was resumed.
public struct TurnResult: Sendable, Equatable {
    /// The turn's id; nil when it could not be started.
    public var turnID: String?
    /// The session the turn was asked in.
    public var sessionID: String
    /// How the turn ended.
    public var ending: TurnEnding
    /// Reconnections: times the turn's stream was opened again (the server answered 200 or
    /// 204) after the first time. Attempts that failed to connect are not counted.
    public var resumes: Int

    /// A result.
    public init(turnID: String?, sessionID: String, ending: TurnEnding, resumes: Int) {
        self.turnID = turnID
        self.sessionID = sessionID
        self.ending = ending
        self.resumes = resumes
    }

    /// The exit status for the command.
    public var exitCode: ChatExitCode { ending.exitCode }
}
