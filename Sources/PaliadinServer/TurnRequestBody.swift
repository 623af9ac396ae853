import PaliadinCore

/// The body of `POST /api/paliadin/turn`.
struct TurnRequestBody: Decodable {
    var userMessage: String?
    var sessionID: String?
    var pageOrigin: String?
    var context: JSONValue?

    enum CodingKeys: String, CodingKey {
        case userMessage = "user_message"
        case sessionID = "session_id"
        case pageOrigin = "page_origin"
        case context
    }

    /// Limits on the fields, beyond the body size limit.
    static let maxSessionIDLength = 200
    static let maxPageOriginLength = 4096
    static let maxContextDepth = 16
}
