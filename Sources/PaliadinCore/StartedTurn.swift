/// The answer to `POST /api/paliadin/turn`: the new turn and where its stream is (the
/// server writes it, the terminal client reads it).
public struct StartedTurn: Codable, Sendable, Equatable {
    /// The turn's id.
    public var turnID: String
    /// The stream's path, `/api/paliadin/stream/{id}`.
    public var sseURL: String

    /// A started turn.
    public init(turnID: String, sseURL: String) {
        self.turnID = turnID
        self.sseURL = sseURL
    }

    enum CodingKeys: String, CodingKey {
        case turnID = "turn_id"
        case sseURL = "sse_url"
    }
}
