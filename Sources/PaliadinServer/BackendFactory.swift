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
            backend = OpenAICompatibleBackend(baseURL: spec.url ?? "", model: spec.model, apiKey: apiKey, httpClient: httpClient)
        case .anthropic:
            guard let apiKey else { throw BackendsFileError("backend '\(spec.name)': an anthropic backend needs api_key_env") }
            backend = AnthropicMessagesBackend(
                baseURL: spec.url ?? "https://api.anthropic.com", model: spec.model, apiKey: apiKey,
                maxTokens: spec.maxTokens ?? 4096, httpClient: httpClient)
        }
        return NamedBackend(name: spec.name, inner: backend)
    }
}
