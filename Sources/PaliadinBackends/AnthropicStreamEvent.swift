/// One `data:` payload of an Anthropic Messages stream.
///
/// Every event carries its `type`; which of the other fields are present depends on it
/// (`message` on `message_start`, `content_block` on `content_block_start`, `delta` on
/// `content_block_delta` and `message_delta`, `usage` on `message_delta`, `error` on `error`).
/// Fields the backend does not use are not decoded.
struct AnthropicStreamEvent: Decodable {
    /// What the event is, from its `type`.
    enum Kind: Equatable {
        case messageStart, contentBlockStart, contentBlockDelta, contentBlockStop
        case messageDelta, messageStop, ping, error
        case unknown

        init(_ type: String?) {
            switch type {
            case "message_start": self = .messageStart
            case "content_block_start": self = .contentBlockStart
            case "content_block_delta": self = .contentBlockDelta
            case "content_block_stop": self = .contentBlockStop
            case "message_delta": self = .messageDelta
            case "message_stop": self = .messageStop
            case "ping": self = .ping
            case "error": self = .error
            default: self = .unknown
            }
        }
    }

    /// Token counts (`message_start` carries them in `message.usage`, `message_delta` at the top level).
    struct Usage: Decodable {
        var inputTokens: Int?
        var outputTokens: Int?

        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
        }
    }

    /// The message shell of `message_start`.
    struct Message: Decodable {
        var usage: Usage?
    }

    /// The block a `content_block_start` opens (`text`, `tool_use`, `thinking`, ...).
    struct ContentBlock: Decodable {
        var type: String?
        var name: String?

        /// The tool's name when the block is a tool call (`tool_use`, or a server-run tool such as `server_tool_use`).
        var toolName: String? {
            guard let type, type.hasSuffix("tool_use"), let name, !name.isEmpty else { return nil }
            return name
        }
    }

    /// A `content_block_delta`'s delta (`text_delta` has `text`), or a `message_delta`'s (`stop_reason`).
    struct Delta: Decodable {
        var type: String?
        var text: String?
        var stopReason: String?

        enum CodingKeys: String, CodingKey {
            case type, text
            case stopReason = "stop_reason"
        }
    }

    var type: String?
    var message: Message?
    var contentBlock: ContentBlock?
    var delta: Delta?
    var usage: Usage?
    var error: AnthropicErrorDetail?

    var kind: Kind { Kind(type) }

    enum CodingKeys: String, CodingKey {
        case type, message, delta, usage, error
        case contentBlock = "content_block"
    }
}

/// Only the `type` of a stream event: read when an event does not decode as a known shape,
/// to tell an event type added to the API later (skipped) from a broken known one.
struct AnthropicEventEnvelope: Decodable {
    var type: String?
}

/// The `error` object of an `error` event and of an error response body.
struct AnthropicErrorDetail: Decodable {
    var type: String?
    var message: String?

    /// Error types that say "try again later": overloaded, rate limited, a server fault or timeout.
    static let retryableTypes: Set<String> = ["overloaded_error", "api_error", "rate_limit_error", "timeout_error"]
    /// Error types that say the request itself will not work as it is.
    static let finalTypes: Set<String> = [
        "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "request_too_large",
        "billing_error",
    ]

    /// Whether a stream that failed with this error may succeed when tried again. An error
    /// type the API adds later counts as retryable: mid-stream errors are mostly server trouble.
    var isRetryable: Bool {
        guard let type else { return true }
        if Self.retryableTypes.contains(type) { return true }
        return !Self.finalTypes.contains(type)
    }
}

/// The JSON body of an error response: `{"type": "error", "error": {"type": ..., "message": ...}}`.
struct AnthropicErrorBody: Decodable {
    var error: AnthropicErrorDetail?
}
