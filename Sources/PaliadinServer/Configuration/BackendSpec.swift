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
///   - name: agent
///     type: cli                     # a command run per turn (Claude Code, or any program)
///     format: claude-stream-json    # or text: standard output is the answer
///     command: [claude, -p, --output-format, stream-json, --verbose, --include-partial-messages]
///     working_directory: /srv/agent
///     ssh: {host: agent.example.com, user: paliadin, identity_file: /etc/paliadin/id_ed25519,
///           known_hosts_file: /etc/paliadin/known_hosts}
/// ```
///
/// Keys are never written in the file: `api_key_env` names the environment variable that holds one.
public struct BackendSpec: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case openai, anthropic, cli
    }

    /// Where a `cli` backend runs its command: another host, through OpenSSH.
    public struct SSHSpec: Sendable, Equatable, Codable {
        public var host: String
        public var user: String?
        public var port: Int?
        public var identityFile: String?
        public var knownHostsFile: String?
        public var options: [String]?

        public init(
            host: String, user: String? = nil, port: Int? = nil, identityFile: String? = nil, knownHostsFile: String? = nil,
            options: [String]? = nil
        ) {
            self.host = host
            self.user = user
            self.port = port
            self.identityFile = identityFile
            self.knownHostsFile = knownHostsFile
            self.options = options
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case host, user, port, options
            case identityFile = "identity_file"
            case knownHostsFile = "known_hosts_file"
        }
    }

    /// The name turns, the audit row and the stats use (`backend` in `POST /api/paliadin/turn`).
    public var name: String
    public var type: Kind
    /// Base URL: `…/v1` for `openai`; `https://api.anthropic.com` (the default) for `anthropic`.
    public var url: String?
    /// The model the backend asks for (`cli`: a label for the audit row; default: the command's name).
    public var model: String?
    /// The environment variable holding the API key, if the backend needs one.
    public var apiKeyEnv: String?
    /// `anthropic`: the most tokens of one answer (default 4096).
    public var maxTokens: Int?
    /// `cli`: the program and its arguments.
    public var command: [String]?
    /// `cli`: `text` (standard output is the answer, the default) or `claude-stream-json`.
    public var format: String?
    /// `cli`: how the prompt goes in: `stdin` (the default) or `argument` (last, after `--`).
    public var prompt: String?
    /// `cli`: the command's working directory and extra environment.
    public var workingDirectory: String?
    public var environment: [String: String]?
    /// `cli`: variables of Paliadin's environment the command must not see (`PALIADIN_*` patterns allowed).
    public var removeEnvironment: [String]?
    /// `cli`: run the command on another host.
    public var ssh: SSHSpec?

    public init(
        name: String, type: Kind, url: String? = nil, model: String? = nil, apiKeyEnv: String? = nil, maxTokens: Int? = nil,
        command: [String]? = nil, format: String? = nil, prompt: String? = nil, workingDirectory: String? = nil,
        environment: [String: String]? = nil, removeEnvironment: [String]? = nil, ssh: SSHSpec? = nil
    ) {
        self.name = name
        self.type = type
        self.url = url
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.maxTokens = maxTokens
        self.command = command
        self.format = format
        self.prompt = prompt
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.removeEnvironment = removeEnvironment
        self.ssh = ssh
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, type, url, model, command, format, prompt, environment, ssh
        case apiKeyEnv = "api_key_env"
        case maxTokens = "max_tokens"
        case workingDirectory = "working_directory"
        case removeEnvironment = "remove_environment"
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
