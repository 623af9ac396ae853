/// The fields of a turn's row (`GET /api/paliadin/turn/{id}`, `GET /api/paliadin/history`)
/// that the terminal client shows. Fields it does not know are ignored.
public struct TurnSummary: Decodable, Sendable, Equatable {
    /// Where a turn is in its life, as its row says.
    public enum Status: Sendable, Equatable {
        /// The turn runs.
        case running
        /// The turn ended with an answer.
        case completed
        /// The turn ended with an error.
        case failed
        /// The turn was cancelled.
        case cancelled
        /// The instance running the turn stopped; another closed it.
        case interrupted
        /// A status this client does not know (or none was given).
        case other(String)

        /// The status named `text`.
        public init(_ text: String) {
            switch text {
            case "running": self = .running
            case "completed": self = .completed
            case "failed": self = .failed
            case "cancelled": self = .cancelled
            case "interrupted": self = .interrupted
            default: self = .other(text)
            }
        }

        /// The status as the server names it.
        public var text: String {
            switch self {
            case .running: "running"
            case .completed: "completed"
            case .failed: "failed"
            case .cancelled: "cancelled"
            case .interrupted: "interrupted"
            case .other(let text): text
            }
        }
    }

    /// The turn's id.
    public var turnID: String
    /// The browser (or terminal) session the turn belongs to.
    public var sessionID: String?
    /// The question.
    public var userMessage: String?
    /// Where the turn is: running, or how it ended.
    public var status: Status
    /// The answer as stored (partial for a turn that did not complete).
    public var response: String
    /// The error code of a turn that did not complete.
    public var errorCode: String?
    /// The error message of a turn that did not complete.
    public var errorMessage: String?

    /// A summary.
    public init(
        turnID: String, sessionID: String? = nil, userMessage: String? = nil, status: Status, response: String,
        errorCode: String? = nil, errorMessage: String? = nil
    ) {
        self.turnID = turnID
        self.sessionID = sessionID
        self.userMessage = userMessage
        self.status = status
        self.response = response
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }

    /// Decodes a row, tolerating missing optional fields.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        turnID = try container.decode(String.self, forKey: .turnID)
        sessionID = try container.decodeIfPresent(String.self, forKey: .sessionID)
        userMessage = try container.decodeIfPresent(String.self, forKey: .userMessage)
        status = Status(try container.decodeIfPresent(String.self, forKey: .status) ?? "unknown")
        response = try container.decodeIfPresent(String.self, forKey: .response) ?? ""
        errorCode = try container.decodeIfPresent(String.self, forKey: .errorCode)
        errorMessage = try container.decodeIfPresent(String.self, forKey: .errorMessage)
    }

    /// How the turn ended, as the client reports it (nil while it runs).
    public var ending: TurnEnding? {
        switch status {
        case .running: nil
        case .completed: .completed
        case .cancelled: .cancelled
        default: .failed(code: errorCode ?? status.text, message: errorMessage ?? "the turn ended \(status.text)", retryable: nil)
        }
    }

    enum CodingKeys: String, CodingKey {
        case turnID = "turn_id"
        case sessionID = "session_id"
        case userMessage = "user_message"
        case status, response
        case errorCode = "error_code"
        case errorMessage = "error_message"
    }
}
