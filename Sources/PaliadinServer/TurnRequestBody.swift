import PaliadinCore

/// The body of `POST /api/paliadin/turn`.
struct TurnRequestBody: Decodable {
    var userMessage: String?
    var sessionID: String?
    var pageOrigin: String?
    var context: JSONValue?
    /// The configured backend to ask; the default one when absent.
    var backend: String?

    enum CodingKeys: String, CodingKey {
        case userMessage = "user_message"
        case sessionID = "session_id"
        case pageOrigin = "page_origin"
        case context, backend
    }

    /// The first text field holding a NUL character: valid JSON, but no database text column
    /// (PostgreSQL's included) can keep it, so the request is refused instead.
    var fieldWithNUL: String? {
        let fields: [(String, String?)] = [
            ("user_message", userMessage), ("session_id", sessionID), ("page_origin", pageOrigin), ("backend", backend),
        ]
        return fields.first { $0.1?.unicodeScalars.contains("\u{0}") == true }?.0
    }

    /// Limits on the fields, beyond the body size limit.
    static let maxSessionIDLength = 200
    static let maxPageOriginLength = 4096
    static let maxContextDepth = 16
}
