import PaliadinCore

/// What a new turn needs of its session's past, read when its row is written.
public struct SessionPast: Sendable, Equatable {
    /// Earlier completed exchanges, oldest first (for a backend that does not keep the conversation).
    public var exchanges: [PastExchange]
    /// The conversation id the same backend gave last in this session (for one that does).
    public var conversationID: String?

    public init(exchanges: [PastExchange] = [], conversationID: String? = nil) {
        self.exchanges = exchanges
        self.conversationID = conversationID
    }
}
