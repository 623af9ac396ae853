import Foundation

/// One backend as the backends file describes it (`--backends-file`, YAML).
///
/// ```yaml
/// default: local
/// backends:
///   - name: local
///     type: openai                  # any OpenAI-compatible server
///     url: http://127.0.0.1:8081/v1
///     model: smollm2
///   - name: claude
///     type: anthropic               # the Anthropic Messages API
///     model: claude-sonnet-4-5
///     api_key_env: ANTHROPIC_API_KEY
/// ```
///
/// Keys are never written in the file: `api_key_env` names the environment variable that holds one.
public struct BackendSpec: Sendable, Equatable, Decodable {
    public enum Kind: String, Sendable, Decodable {
        case openai, anthropic
    }

    /// The name turns, the audit row and the stats use (`backend` in `POST /api/paliadin/turn`).
    public var name: String
    public var type: Kind
    /// Base URL: `…/v1` for `openai`; `https://api.anthropic.com` (the default) for `anthropic`.
    public var url: String?
    public var model: String
    /// The environment variable holding the API key, if the backend needs one.
    public var apiKeyEnv: String?
    /// `anthropic`: the most tokens of one answer (default 4096).
    public var maxTokens: Int?

    public init(name: String, type: Kind, url: String? = nil, model: String, apiKeyEnv: String? = nil, maxTokens: Int? = nil) {
        self.name = name
        self.type = type
        self.url = url
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.maxTokens = maxTokens
    }

    enum CodingKeys: String, CodingKey {
        case name, type, url, model
        case apiKeyEnv = "api_key_env"
        case maxTokens = "max_tokens"
    }
}

/// The whole backends file.
public struct BackendsFile: Sendable, Equatable, Decodable {
    /// The backend a turn gets when it names none (default: the first).
    public var `default`: String?
    public var backends: [BackendSpec]

    public init(default name: String? = nil, backends: [BackendSpec]) {
        self.default = name
        self.backends = backends
    }
}
