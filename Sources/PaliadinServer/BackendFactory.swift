import AsyncHTTPClient
import PaliadinBackends
import PaliadinCore
import PaliadinEngine

/// Turns the configuration's backends into running ones.
enum BackendFactory {
    /// The registry for a configuration: the backends file's, or one OpenAI-compatible
    /// backend from the flags (named `openai`).
    static func registry(
        for configuration: AppConfiguration, environment: [String: String], httpClient: HTTPClient
    ) throws -> BackendRegistry {
        guard let file = configuration.backendsFile else {
            return BackendRegistry(
                single: OpenAICompatibleBackend(
                    baseURL: configuration.backendURL, model: configuration.model, apiKey: configuration.apiKey, httpClient: httpClient))
        }
        let backends = try file.backends.map { try make($0, environment: environment, httpClient: httpClient) }
        return try BackendRegistry(backends, defaultName: file.default)
    }

    /// What would stop the backends file's backends from being made, without making them
    /// (for the configuration's check at start-up and `paliadin config check`).
    static func problems(in file: BackendsFile, environment: [String: String]) -> [String] {
        file.backends.compactMap { spec in
            do {
                if let variable = spec.apiKeyEnv, environment[variable]?.isEmpty ?? true {
                    throw BackendsFileError("backend '\(spec.name)': the environment variable \(variable) (its api_key_env) is empty or unset")
                }
                switch spec.type {
                case .openai:
                    break
                case .anthropic:
                    if spec.apiKeyEnv == nil { throw BackendsFileError("backend '\(spec.name)': an anthropic backend needs api_key_env") }
                case .cli:
                    _ = try command(of: spec)
                }
                return nil
            } catch let error as BackendsFileError {
                return error.description
            } catch {
                return "backend '\(spec.name)': \(error)"
            }
        }
    }

    /// One backend from its description.
    static func make(_ spec: BackendSpec, environment: [String: String], httpClient: HTTPClient) throws -> any ChatBackend {
        var apiKey: String?
        if let variable = spec.apiKeyEnv {
            guard let value = environment[variable], !value.isEmpty else {
                throw BackendsFileError("backend '\(spec.name)': the environment variable \(variable) (its api_key_env) is empty or unset")
            }
            apiKey = value
        }
        let backend: any ChatBackend
        switch spec.type {
        case .openai:
            guard let model = spec.model else { throw BackendsFileError("backend '\(spec.name)': an openai backend needs a model") }
            backend = OpenAICompatibleBackend(baseURL: spec.url ?? "", model: model, apiKey: apiKey, httpClient: httpClient)
        case .anthropic:
            guard let apiKey else { throw BackendsFileError("backend '\(spec.name)': an anthropic backend needs api_key_env") }
            guard let model = spec.model else { throw BackendsFileError("backend '\(spec.name)': an anthropic backend needs a model") }
            backend = AnthropicMessagesBackend(
                baseURL: spec.url ?? "https://api.anthropic.com", model: model, apiKey: apiKey,
                maxTokens: spec.maxTokens ?? 4096, httpClient: httpClient)
        case .cli:
            backend = CLIAgentBackend(command: try command(of: spec), name: spec.name, model: spec.model)
        }
        return NamedBackend(name: spec.name, inner: backend)
    }

    /// The command a `cli` backend runs, checked.
    static func command(of spec: BackendSpec) throws -> CLIAgentCommand {
        guard let argv = spec.command, let executable = argv.first, !executable.isEmpty else {
            throw BackendsFileError("backend '\(spec.name)': a cli backend needs command: [program, arguments...]")
        }
        guard let format = CLIAgentCommand.Format(rawValue: spec.format ?? "text") else {
            throw BackendsFileError("backend '\(spec.name)': format must be text or claude-stream-json, got '\(spec.format ?? "")'")
        }
        let prompt: CLIAgentCommand.PromptDelivery
        switch spec.prompt ?? "stdin" {
        case "stdin": prompt = .standardInput
        case "argument": prompt = .finalArgument(endOfOptions: "--")
        case let other: throw BackendsFileError("backend '\(spec.name)': prompt must be stdin or argument, got '\(other)'")
        }
        let ssh = spec.ssh.map {
            CLIAgentCommand.SSH(
                host: $0.host, user: $0.user, port: $0.port, identityFile: $0.identityFile, knownHostsFile: $0.knownHostsFile,
                extraOptions: $0.options ?? [])
        }
        let command = CLIAgentCommand(
            executable: executable, arguments: Array(argv.dropFirst()), format: format, prompt: prompt,
            workingDirectory: spec.workingDirectory, environment: spec.environment ?? [:],
            removedEnvironment: spec.removeEnvironment ?? [], ssh: ssh)
        do {
            try command.validate()
        } catch {
            throw BackendsFileError("backend '\(spec.name)': \(error.message)")
        }
        return command
    }
}
