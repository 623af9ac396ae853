import Foundation

/// The audit row of one turn: what was asked, by whom, from where, and how it ended.
public struct TurnRecord: Sendable, Equatable {
    public var id: TurnID
    public var userID: String
    public var sessionID: String
    public var pageOrigin: String?
    /// The page context the host app sent, as JSON text.
    public var contextJSON: String?
    public var userMessage: String
    public var status: TurnStatus
    /// The answer so far (complete once the turn has ended).
    public var response: String
    public var errorCode: String?
    public var errorMessage: String?
    public var startedAt: Date
    public var firstTokenAt: Date?
    public var finishedAt: Date?
    public var durationMS: Int?
    public var ttftMS: Int?
    public var backend: String
    public var model: String
    public var tokensIn: Int?
    public var tokensOut: Int?
    public var usedTools: [String]
    public var rowsSeen: [Int]
    public var chipCount: Int
    public var classifierTag: String
    /// The conversation id a stateful backend reported.
    public var conversationID: String?
    /// How many times a reader opened the turn's stream.
    public var readerConnects: Int
    /// How many of those opened it after an event id (resumes).
    public var readerResumes: Int
    /// True when the answer came in as a stream of deltas.
    public var streamed: Bool
    /// The Paliadin instance that runs (ran) the turn, when instances share a database.
    public var instanceID: String?

    public init(
        id: TurnID, userID: String, sessionID: String, pageOrigin: String?, contextJSON: String?,
        userMessage: String, startedAt: Date, backend: String, model: String
    ) {
        self.id = id
        self.userID = userID
        self.sessionID = sessionID
        self.pageOrigin = pageOrigin
        self.contextJSON = contextJSON
        self.userMessage = userMessage
        self.status = .running
        self.response = ""
        self.startedAt = startedAt
        self.backend = backend
        self.model = model
        self.usedTools = []
        self.rowsSeen = []
        self.chipCount = 0
        self.classifierTag = ""
        self.readerConnects = 0
        self.readerResumes = 0
        self.streamed = false
    }
}

/// How a turn ended: everything the engine writes to the row when it closes a turn.
public struct TurnOutcome: Sendable, Equatable {
    public var status: TurnStatus
    public var response: String
    public var errorCode: String?
    public var errorMessage: String?
    public var firstTokenAt: Date?
    public var finishedAt: Date
    public var durationMS: Int
    public var ttftMS: Int?
    public var tokensIn: Int?
    public var tokensOut: Int?
    public var usedTools: [String]
    public var rowsSeen: [Int]
    public var chipCount: Int
    public var classifierTag: String
    public var conversationID: String?
    public var streamed: Bool

    public init(
        status: TurnStatus, response: String, errorCode: String? = nil, errorMessage: String? = nil,
        firstTokenAt: Date? = nil, finishedAt: Date, durationMS: Int, ttftMS: Int? = nil,
        tokensIn: Int? = nil, tokensOut: Int? = nil, usedTools: [String] = [], rowsSeen: [Int] = [],
        chipCount: Int = 0, classifierTag: String = "", conversationID: String? = nil, streamed: Bool = false
    ) {
        self.status = status
        self.response = response
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.firstTokenAt = firstTokenAt
        self.finishedAt = finishedAt
        self.durationMS = durationMS
        self.ttftMS = ttftMS
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.usedTools = usedTools
        self.rowsSeen = rowsSeen
        self.chipCount = chipCount
        self.classifierTag = classifierTag
        self.conversationID = conversationID
        self.streamed = streamed
    }
}
