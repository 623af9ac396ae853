/// One `data:` payload of an OpenAI-compatible chat completions stream.
struct OpenAIChunk: Decodable {
    struct Choice: Decodable {
        struct Delta: Decodable {
            var role: String?
            var content: String?
            var toolCalls: [ToolCall]?

            enum CodingKeys: String, CodingKey {
                case role, content
                case toolCalls = "tool_calls"
            }
        }

        struct ToolCall: Decodable {
            struct Function: Decodable {
                var name: String?
            }

            var function: Function?
        }

        var delta: Delta?
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case delta
            case finishReason = "finish_reason"
        }
    }

    struct Usage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    var choices: [Choice]?
    var usage: Usage?
    var error: OpenAIErrorBody.Detail?
}

/// The error body OpenAI-compatible servers send (`{"error": {"message": ...}}`), in any of its common shapes.
struct OpenAIErrorBody: Decodable {
    struct Detail: Decodable {
        var message: String?
        var type: String?

        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                message = text
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
        }

        enum CodingKeys: String, CodingKey {
            case message, type
        }
    }

    var error: Detail?
    var message: String?
    var detail: String?

    var text: String? { error?.message ?? message ?? detail }
}
