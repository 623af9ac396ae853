import PaliadinCore

/// A turn someone asked for, checked and ready to start.
public struct NewTurn: Sendable {
    public var userID: String
    public var sessionID: String
    public var userMessage: String
    public var pageOrigin: String?
    public var context: JSONValue?
    /// The backend to ask, by name; nil for the default one.
    public var backendName: String?

    public init(
        userID: String, sessionID: String, userMessage: String, pageOrigin: String?, context: JSONValue?, backendName: String? = nil
    ) {
        self.userID = userID
        self.sessionID = sessionID
        self.userMessage = userMessage
        self.pageOrigin = pageOrigin
        self.context = context
        self.backendName = backendName
    }
}

/// Errors of the engine that the HTTP layer maps to statuses.
public enum EngineError: Error, Equatable {
    /// The process is shutting down and takes no new turns.
    case shuttingDown
    /// The turn names a backend that is not configured.
    case unknownBackend(String)
    /// The user started too many turns in the last minute; the next is allowed after `retryAfter`.
    case tooManyTurnsPerMinute(limit: Int, retryAfter: Duration)
    /// The user has this many turns running already.
    case tooManyRunningTurns(limit: Int)
}
