import ArgumentParser
import Foundation

/// The options of `paliadin serve` (and `paliadin config check`): the configuration file and
/// one flag per setting of `ServerSetting.all`. A flag wins over the environment, which wins
/// over the file.
public struct ServerOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: "YAML configuration file; every setting below may be given there under its key (see the README). [env PALIADIN_CONFIG]")
    public var config: String?

    @Option(name: .customLong("listen"), help: .init(ServerSetting.named("listen").help))
    public var listen: String?

    @Option(name: .customLong("database"), help: .init(ServerSetting.named("database").help))
    public var database: String?

    @Option(name: .customLong("database-pool"), help: .init(ServerSetting.named("database_pool").help))
    public var databasePool: String?

    @Option(name: .customLong("heartbeat"), help: .init(ServerSetting.named("heartbeat").help))
    public var heartbeat: String?

    @Option(name: .customLong("instance-timeout"), help: .init(ServerSetting.named("instance_timeout").help))
    public var instanceTimeout: String?

    @Option(name: .customLong("backend-url"), help: .init(ServerSetting.named("backend_url").help))
    public var backendURL: String?

    @Option(name: .customLong("model"), help: .init(ServerSetting.named("model").help))
    public var model: String?

    @Option(name: .customLong("api-key"), help: .init(ServerSetting.named("api_key").help))
    public var apiKey: String?

    @Option(name: .customLong("backend-connections"), help: .init(ServerSetting.named("backend_connections").help))
    public var backendConnections: String?

    @Option(name: .customLong("backend-idle-timeout"), help: .init(ServerSetting.named("backend_idle_timeout").help))
    public var backendIdleTimeout: String?

    @Option(name: .customLong("backends-file"), help: .init(ServerSetting.named("backends_file").help))
    public var backendsFile: String?

    @Option(name: .customLong("owners"), help: .init(ServerSetting.named("owners").help))
    public var owners: String?

    @Option(name: .customLong("trusted-proxies"), help: .init(ServerSetting.named("trusted_proxies").help))
    public var trustedProxies: String?

    @Option(name: .customLong("proxy-user-header"), help: .init(ServerSetting.named("proxy_user_header").help))
    public var proxyUserHeader: String?

    @Option(name: .customLong("session-key"), help: .init(ServerSetting.named("session_key").help))
    public var sessionKey: String?

    @Option(name: .customLong("session-issuer"), help: .init(ServerSetting.named("session_issuer").help))
    public var sessionIssuer: String?

    @Option(name: .customLong("session-audience"), help: .init(ServerSetting.named("session_audience").help))
    public var sessionAudience: String?

    @Option(name: .customLong("dev-user"), help: .init(ServerSetting.named("dev_user").help))
    public var devUser: String?

    @Option(name: .customLong("enabled"), help: .init(ServerSetting.named("enabled").help))
    public var enabled: String?

    @Option(name: .customLong("silence-timeout"), help: .init(ServerSetting.named("silence_timeout").help))
    public var silenceTimeout: String?

    @Option(name: .customLong("thinking-interval"), help: .init(ServerSetting.named("thinking_interval").help))
    public var thinkingInterval: String?

    @Option(name: .customLong("turn-deadline"), help: .init(ServerSetting.named("turn_deadline").help))
    public var turnDeadline: String?

    @Option(name: .customLong("one-shot-deadline"), help: .init(ServerSetting.named("one_shot_deadline").help))
    public var oneShotDeadline: String?

    @Option(name: .customLong("ping-interval"), help: .init(ServerSetting.named("ping_interval").help))
    public var pingInterval: String?

    @Option(name: .customLong("shutdown-grace"), help: .init(ServerSetting.named("shutdown_grace").help))
    public var shutdownGrace: String?

    @Option(name: .customLong("stalled-reader-timeout"), help: .init(ServerSetting.named("stalled_reader_timeout").help))
    public var stalledReaderTimeout: String?

    @Option(name: .customLong("idle-timeout"), help: .init(ServerSetting.named("idle_timeout").help))
    public var idleTimeout: String?

    @Option(name: .customLong("recover-give-up"), help: .init(ServerSetting.named("recover_give_up").help))
    public var recoverGiveUp: String?

    @Option(name: .customLong("user-turns-per-minute"), help: .init(ServerSetting.named("user_turns_per_minute").help))
    public var userTurnsPerMinute: String?

    @Option(name: .customLong("user-concurrent-turns"), help: .init(ServerSetting.named("user_concurrent_turns").help))
    public var userConcurrentTurns: String?

    @Option(name: .customLong("max-body"), help: .init(ServerSetting.named("max_body").help))
    public var maxBody: String?

    @Option(name: .customLong("system-prompt"), help: .init(ServerSetting.named("system_prompt").help))
    public var systemPrompt: String?

    @Option(name: .customLong("history-budget"), help: .init(ServerSetting.named("history_budget").help))
    public var historyBudget: String?

    @Option(name: .customLong("embed-origins"), help: .init(ServerSetting.named("embed_origins").help))
    public var embedOrigins: String?

    @Option(name: .customLong("cors-origins"), help: .init(ServerSetting.named("cors_origins").help))
    public var corsOrigins: String?

    @Option(name: .customLong("metrics-token"), help: .init(ServerSetting.named("metrics_token").help))
    public var metricsToken: String?

    @Option(name: .customLong("metrics-listen"), help: .init(ServerSetting.named("metrics_listen").help))
    public var metricsListen: String?

    @Option(name: .customLong("otlp-endpoint"), help: .init(ServerSetting.named("otlp_endpoint").help))
    public var otlpEndpoint: String?

    @Option(name: .customLong("otlp-protocol"), help: .init(ServerSetting.named("otlp_protocol").help))
    public var otlpProtocol: String?

    @Option(name: .customLong("service-name"), help: .init(ServerSetting.named("service_name").help))
    public var serviceName: String?

    @Option(name: .customLong("log-level"), help: .init(ServerSetting.named("log_level").help))
    public var logLevel: String?

    @Option(name: .customLong("log-format"), help: .init(ServerSetting.named("log_format").help))
    public var logFormat: String?

    @Option(name: .customLong("log-message-text"), help: .init(ServerSetting.named("log_message_text").help))
    public var logMessageText: String?

    public init() {}

    /// Setting key → the flag's value, for the flags given.
    public var flagValues: [String: String] {
        let all: [String: String?] = [
            "listen": listen,
            "database": database,
            "database_pool": databasePool,
            "heartbeat": heartbeat,
            "instance_timeout": instanceTimeout,
            "backend_url": backendURL,
            "model": model,
            "api_key": apiKey,
            "backend_connections": backendConnections,
            "backend_idle_timeout": backendIdleTimeout,
            "backends_file": backendsFile,
            "owners": owners,
            "trusted_proxies": trustedProxies,
            "proxy_user_header": proxyUserHeader,
            "session_key": sessionKey,
            "session_issuer": sessionIssuer,
            "session_audience": sessionAudience,
            "dev_user": devUser,
            "enabled": enabled,
            "silence_timeout": silenceTimeout,
            "thinking_interval": thinkingInterval,
            "turn_deadline": turnDeadline,
            "one_shot_deadline": oneShotDeadline,
            "ping_interval": pingInterval,
            "shutdown_grace": shutdownGrace,
            "stalled_reader_timeout": stalledReaderTimeout,
            "idle_timeout": idleTimeout,
            "recover_give_up": recoverGiveUp,
            "user_turns_per_minute": userTurnsPerMinute,
            "user_concurrent_turns": userConcurrentTurns,
            "max_body": maxBody,
            "system_prompt": systemPrompt,
            "history_budget": historyBudget,
            "embed_origins": embedOrigins,
            "cors_origins": corsOrigins,
            "metrics_token": metricsToken,
            "metrics_listen": metricsListen,
            "otlp_endpoint": otlpEndpoint,
            "otlp_protocol": otlpProtocol,
            "service_name": serviceName,
            "log_level": logLevel,
            "log_format": logFormat,
            "log_message_text": logMessageText,
        ]
        return all.compactMapValues { $0 }
    }

    /// The configuration file named by `--config` or `PALIADIN_CONFIG`, read and checked.
    public func configurationFile(environment: [String: String]) throws -> ConfigurationFile? {
        guard let path = config ?? environment["PALIADIN_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        return try ConfigurationFile.load(path: path)
    }

    /// The effective configuration: defaults, then the file, the environment, the flags.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ConfigurationLoader.Loaded {
        try ConfigurationLoader.load(file: configurationFile(environment: environment), environment: environment, flags: flagValues)
    }
}
