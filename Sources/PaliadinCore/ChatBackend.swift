/// A message of a conversation as stateless chat APIs take it.
public struct ConversationMessage: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// Everything a backend needs to run one turn.
public struct BackendTurnRequest: Sendable {
    public var turnID: TurnID
    public var userID: String
    public var sessionID: String
    /// The messages to send: system prompt, the session's earlier turns, then the new user message.
    public var messages: [ConversationMessage]
    /// The conversation id a stateful backend gave on the session's previous turn, if any.
    public var conversationID: String?

    public init(turnID: TurnID, userID: String, sessionID: String, messages: [ConversationMessage], conversationID: String?) {
        self.turnID = turnID
        self.userID = userID
        self.sessionID = sessionID
        self.messages = messages
        self.conversationID = conversationID
    }
}

/// What a backend reports while it runs: the one internal stream every backend speaks.
public enum BackendEvent: Sendable, Equatable {
    /// A piece of the answer.
    case chunk(String)
    /// The backend is alive but has nothing to say yet.
    case heartbeat
    /// Facts about the turn for the audit row.
    case meta(BackendMeta)
    /// The backend's own conversation id (stateful agents).
    case conversation(String)
    /// Token counts.
    case usage(tokensIn: Int?, tokensOut: Int?)
}

/// Audit facts a backend may report.
public struct BackendMeta: Sendable, Equatable {
    public var usedTools: [String]?
    public var rowsSeen: [Int]?
    public var chipCount: Int?
    public var classifierTag: String?

    public init(usedTools: [String]? = nil, rowsSeen: [Int]? = nil, chipCount: Int? = nil, classifierTag: String? = nil) {
        self.usedTools = usedTools
        self.rowsSeen = rowsSeen
        self.chipCount = chipCount
        self.classifierTag = classifierTag
    }
}

/// Why a backend could not finish a turn.
public struct BackendFailure: Error, Sendable, Equatable {
    /// One of `TurnErrorCode`.
    public var code: String
    public var message: String
    /// True when trying again later may work (rate limits, 5xx, refused connections).
    public var retryable: Bool

    public init(code: String, message: String, retryable: Bool) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }
}

/// An AI backend that runs turns.
///
/// `runTurn` reports what happens through `events` (awaited, so a slow consumer slows the
/// backend rather than piling up), returns when the answer is complete, throws
/// `BackendFailure` when it is not, and stops promptly when its task is cancelled.
public protocol ChatBackend: Sendable {
    /// A short name for the audit row and the stats (`openai`, `anthropic`, ...).
    var name: String { get }
    /// The model the backend asks for.
    var model: String { get }
    /// Streaming backends are subject to the silence limit; one-shot ones to the one-shot ceiling.
    var mode: TurnWatch.Mode { get }
    /// True when the backend keeps conversation state itself and wants only the new message.
    var keepsConversation: Bool { get }

    func runTurn(_ request: BackendTurnRequest, events: @Sendable (BackendEvent) async -> Void) async throws
}
