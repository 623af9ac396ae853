/// The kinds of events a turn's stream carries (the SSE `event:` names).
public enum TurnEventKind: String, Sendable, Codable, CaseIterable {
    case meta
    case thinking
    case content
    case end
    case error

    /// `end` and `error` close a turn's stream; nothing follows them.
    public var isTerminal: Bool { self == .end || self == .error }
}

/// One event of a turn, as kept in the turn's durable log and sent to readers.
///
/// `seq` counts from 1 within a turn, without gaps; it is the SSE `id:`.
/// `data` is the event's JSON payload, encoded once when the event is emitted.
public struct TurnEvent: Sendable, Hashable {
    public let turnID: TurnID
    public let seq: Int
    public let kind: TurnEventKind
    public let data: String

    public init(turnID: TurnID, seq: Int, kind: TurnEventKind, data: String) {
        self.turnID = turnID
        self.seq = seq
        self.kind = kind
        self.data = data
    }
}
