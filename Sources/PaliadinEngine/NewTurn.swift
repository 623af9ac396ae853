import PaliadinCore

/// A turn someone asked for, checked and ready to start.
public struct NewTurn: Sendable {
    public var userID: String
    public var sessionID: String
    public var userMessage: String
    public var pageOrigin: String?
    public var context: JSONValue?

    public init(userID: String, sessionID: String, userMessage: String, pageOrigin: String?, context: JSONValue?) {
        self.userID = userID
        self.sessionID = sessionID
        self.userMessage = userMessage
        self.pageOrigin = pageOrigin
        self.context = context
    }
}

/// Errors of the engine that the HTTP layer maps to statuses.
public enum EngineError: Error, Equatable {
    /// The process is shutting down and takes no new turns.
    case shuttingDown
}
