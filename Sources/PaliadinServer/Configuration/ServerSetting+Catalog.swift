import Foundation
import Logging
import PaliadinEngine
import PaliadinStore

extension ServerSetting {
    /// Every setting of `paliadin serve`, grouped by topic (the order `config check` prints).
    /// Each variable is `PALIADIN_` and the key in capitals, but for `PALIADIN_ONESHOT_DEADLINE`,
    /// the name it had before there was a key.
    public static let all: [ServerSetting] = [
        ServerSetting(
            "listen", "PALIADIN_LISTEN", default: "127.0.0.1:8080", "Address to listen on, host:port.",
            apply: { configuration, text in
                guard let address = SettingValue.listenAddress(text) else { throw SettingProblem("must be host:port, got '\(text)'") }
                (configuration.host, configuration.port) = address
            },
            show: { ListenAddress(host: $0.host, port: $0.port).description }),
        ServerSetting(
            "database", "PALIADIN_DATABASE", default: "./data/paliadin.sqlite",
            "SQLite database file (created with its folder when missing), or a postgres://user@host:port/db URL that several instances can share.",
            apply: { configuration, text in
                configuration.databasePath = text
                guard configuration.usesPostgres else { return }
                do {
                    _ = try PostgresTurnStore.checkURL(text)
                } catch {
                    throw SettingProblem("is not a usable PostgreSQL URL: \(error)")
                }
            },
            show: { SettingValue.hidingPassword($0.databasePath) }),
        positiveInt(
            "database_pool", "PALIADIN_DATABASE_POOL", default: "16", "PostgreSQL only: most database connections open at once.",
            \.databasePool),
        duration(
            "heartbeat", "PALIADIN_HEARTBEAT", default: "5s",
            "PostgreSQL only: how often this instance says it is alive and looks for dead ones.", \.heartbeatInterval),
        duration(
            "instance_timeout", "PALIADIN_INSTANCE_TIMEOUT", default: "20s",
            "PostgreSQL only: an instance silent this long is presumed dead and a survivor closes its running turns as interrupted.",
            \.instanceTimeout),
        ServerSetting(
            "backend_url", "PALIADIN_BACKEND_URL", default: "http://127.0.0.1:8081/v1",
            "Base URL of the OpenAI-compatible backend, ending in its API version.",
            apply: { configuration, text in configuration.backendURL = try httpURL(text) },
            show: { SettingValue.hidingPassword($0.backendURL) }),
        text("model", "PALIADIN_MODEL", default: "smollm2", "Model name sent to the backend.", \.model),
        optionalText(
            "api_key", "PALIADIN_API_KEY", "API key for the backend; prefer the environment variable (flags show in process lists).",
            \.apiKey, secret: true),
        positiveInt(
            "backend_connections", "PALIADIN_BACKEND_CONNECTIONS", default: "512",
            "Most connections open at once to the backend; each streaming turn holds one.", \.backendConnections),
        duration(
            "backend_idle_timeout", "PALIADIN_BACKEND_IDLE_TIMEOUT", default: "10s",
            "How long an unused backend connection is kept for the next turn.", \.backendIdleTimeout),
        ServerSetting(
            "backends_file", "PALIADIN_BACKENDS_FILE", default: "none",
            "YAML file naming several backends and the default one; replaces the single backend above (the configuration file can list them too, under backends:).",
            apply: { configuration, path in
                do {
                    configuration.backendsFile = try BackendsFileLoader.load(path: path)
                    configuration.backendsFilePath = path
                } catch let error as BackendsFileError {
                    throw SettingProblem(error.description)
                }
            },
            show: { $0.backendsFilePath }),
        ServerSetting(
            "owners", "PALIADIN_OWNERS", default: "none", "Comma-separated user ids or emails allowed to use the assistant.",
            apply: { configuration, text in configuration.owners = Set(SettingValue.list(text)) },
            show: { $0.owners.isEmpty ? nil : $0.owners.sorted().joined(separator: ",") }),
        ServerSetting(
            "trusted_proxies", "PALIADIN_TRUSTED_PROXIES", default: "none",
            "Comma-separated addresses or CIDR blocks (10.0.0.0/8, ::1) of reverse proxies whose user header is believed.",
            apply: { configuration, text in
                configuration.trustedProxies = try SettingValue.list(text).map { item in
                    guard let range = AddressRange(item) else {
                        throw SettingProblem("must list IP addresses or CIDR blocks (10.0.0.0/8), got '\(item)'")
                    }
                    return range
                }
            },
            show: { $0.trustedProxies.isEmpty ? nil : $0.trustedProxies.map(\.description).joined(separator: ",") }),
        ServerSetting(
            "proxy_user_header", "PALIADIN_PROXY_USER_HEADER", default: "X-Forwarded-User",
            "Header in which a trusted proxy names the signed-in user.",
            apply: { configuration, text in
                guard SettingValue.headerName(text) else { throw SettingProblem("must be a header name, got '\(text)'") }
                configuration.proxyUserHeader = text
            },
            show: { $0.proxyUserHeader }),
        ServerSetting(
            "session_key", "PALIADIN_SESSION_KEY", default: "none",
            "Key the host app signs session tokens with (JWT, HS256, at least 32 bytes); prefer the environment variable.",
            secret: true,
            apply: { configuration, text in
                guard text.utf8.count >= SessionTokenVerifier.minimumKeyBytes else {
                    throw SettingProblem("must be at least \(SessionTokenVerifier.minimumKeyBytes) bytes (HS256 wants a key as long as its hash)")
                }
                configuration.sessionKey = text
            },
            show: { $0.sessionKey }),
        optionalText("session_issuer", "PALIADIN_SESSION_ISSUER", "When set, session tokens must carry this issuer (iss).", \.sessionIssuer),
        optionalText("session_audience", "PALIADIN_SESSION_AUDIENCE", "When set, session tokens must list this audience (aud).", \.sessionAudience),
        optionalText(
            "dev_user", "PALIADIN_DEV_USER", "Dev mode: requests from loopback without credentials act as this user, who is an owner.",
            \.devUser),
        bool("enabled", "PALIADIN_ENABLED", default: "true", "false: none of the assistant's routes exist.", \.enabled),
        duration(
            "silence_timeout", "PALIADIN_SILENCE_TIMEOUT", default: "90s",
            "A streaming backend silent this long fails the turn (upstream_silence).", \.engine.timing.silenceLimit),
        duration(
            "thinking_interval", "PALIADIN_THINKING_INTERVAL", default: "5s", "Interval of 'thinking' events while the backend is silent.",
            \.engine.timing.thinkingInterval),
        duration(
            "turn_deadline", "PALIADIN_TURN_DEADLINE", default: "30m", "Hard ceiling of a streaming turn (upstream_timeout).",
            \.engine.timing.streamingDeadline),
        duration(
            "one_shot_deadline", "PALIADIN_ONESHOT_DEADLINE", default: "150s", "Hard ceiling of a one-shot backend.",
            \.engine.timing.oneShotDeadline),
        duration("ping_interval", "PALIADIN_PING_INTERVAL", default: "25s", "Keep-alive 'ping' interval on idle streams.", \.engine.pingInterval),
        duration(
            "shutdown_grace", "PALIADIN_SHUTDOWN_GRACE", default: "10s",
            "On shutdown, time running turns get before they are closed as interrupted.", \.engine.shutdownGrace),
        optionalDuration(
            "stalled_reader_timeout", "PALIADIN_STALLED_READER_TIMEOUT", default: "60s",
            "A stream whose reader takes no data this long is closed (it may resume); 0: never.", \.stalledReaderTimeout),
        optionalDuration(
            "idle_timeout", "PALIADIN_IDLE_TIMEOUT", default: "75s", "A connection with no request in progress is closed after this long; 0: never.",
            \.idleConnectionTimeout),
        duration(
            "recover_give_up", "PALIADIN_RECOVER_GIVE_UP", default: "12m", "A turn pending this long is reported 'lost' by recover.",
            \.recoveryGiveUp),
        limit(
            "user_turns_per_minute", "PALIADIN_USER_TURNS_PER_MINUTE", default: "30",
            "Turns one user may start per minute (429 with Retry-After beyond); 0: no limit.", \.engine.userLimits.turnsPerMinute),
        limit(
            "user_concurrent_turns", "PALIADIN_USER_CONCURRENT_TURNS", default: "4",
            "Turns of one user running at once (429 beyond); 0: no limit.", \.engine.userLimits.concurrentTurns),
        positiveInt("max_body", "PALIADIN_MAX_BODY", default: "65536", "Largest accepted request body in bytes.", \.maxBodyBytes),
        text("system_prompt", "PALIADIN_SYSTEM_PROMPT", default: "a short default", "System prompt placed before the page context.", \.systemPrompt),
        ServerSetting(
            "history_budget", "PALIADIN_HISTORY_BUDGET", default: "12000",
            "Characters of earlier exchanges sent along to a stateless backend.",
            apply: { configuration, text in
                guard let chars = Int(text), chars >= 0 else { throw SettingProblem("must be a number of characters, got '\(text)'") }
                configuration.historyBudget = chars
            },
            show: { String($0.historyBudget) }),
        origins(
            "embed_origins", "PALIADIN_EMBED_ORIGINS",
            "Comma-separated origins (https://app.example.com) whose pages may embed the chat through the widget.", \.embedOrigins),
        origins(
            "cors_origins", "PALIADIN_CORS_ORIGINS",
            "Comma-separated origins (https://tools.example.com) of pages that may call the API with a bearer token (CORS).", \.corsOrigins),
        optionalText(
            "metrics_token", "PALIADIN_METRICS_TOKEN", "Bearer token a Prometheus scraper sends for GET /metrics; prefer the environment variable.",
            \.metricsToken, secret: true),
        ServerSetting(
            "metrics_listen", "PALIADIN_METRICS_LISTEN", default: "none",
            "A second listener, host:port, that serves GET /metrics alone without credentials (keep it private).",
            apply: { configuration, text in
                guard let address = SettingValue.listenAddress(text) else { throw SettingProblem("must be host:port, got '\(text)'") }
                configuration.metricsListen = ListenAddress(host: address.host, port: address.port)
            },
            show: { $0.metricsListen?.description }),
        ServerSetting(
            "otlp_endpoint", "PALIADIN_OTLP_ENDPOINT", default: "none: no tracing",
            "OTLP/HTTP collector (http://127.0.0.1:4318) that receives a trace of each turn.",
            apply: { configuration, text in configuration.otlpEndpoint = try httpURL(text) },
            show: { $0.otlpEndpoint.map(SettingValue.hidingPassword) }),
        ServerSetting(
            "otlp_protocol", "PALIADIN_OTLP_PROTOCOL", default: "protobuf", "How spans are encoded for the collector: protobuf or json.",
            apply: { configuration, text in
                switch text.lowercased() {
                case "protobuf", "http/protobuf": configuration.otlpJSON = false
                case "json", "http/json": configuration.otlpJSON = true
                default: throw SettingProblem("must be protobuf or json, got '\(text)'")
                }
            },
            show: { $0.otlpJSON ? "json" : "protobuf" }),
        text("service_name", "PALIADIN_SERVICE_NAME", default: "paliadin", "service.name on exported traces.", \.serviceName),
        ServerSetting(
            "log_level", "PALIADIN_LOG_LEVEL", default: "info", "Least severe level logged: trace, debug, info, notice, warning, error, critical.",
            apply: { configuration, text in
                guard let level = Logger.Level(rawValue: text.lowercased()) else {
                    throw SettingProblem("must be trace, debug, info, notice, warning, error or critical, got '\(text)'")
                }
                configuration.logLevel = level
            },
            show: { $0.logLevel.rawValue }),
        ServerSetting(
            "log_format", "PALIADIN_LOG_FORMAT", default: "text", "How log lines are written: text, or json (one object per line).",
            apply: { configuration, text in
                guard let format = LogFormat(rawValue: text.lowercased()) else { throw SettingProblem("must be text or json, got '\(text)'") }
                configuration.logFormat = format
            },
            show: { $0.logFormat.rawValue }),
        bool(
            "log_message_text", "PALIADIN_LOG_MESSAGE_TEXT", default: "false",
            "true: each turn's log line also carries the user's message and the answer (off: no message text in logs).",
            \.engine.logsMessageText),
    ]

    // MARK: - Kinds of settings

    /// An http:// or https:// URL.
    static func httpURL(_ text: String) throws -> String {
        guard let url = URLComponents(string: text), url.scheme == "http" || url.scheme == "https", url.host?.isEmpty == false else {
            throw SettingProblem("must be an http:// or https:// URL, got '\(text)'")
        }
        return text
    }

    typealias Path<Value> = any WritableKeyPath<AppConfiguration, Value> & Sendable

    static func text(_ key: String, _ variable: String, default defaultText: String, _ summary: String, _ path: Path<String>) -> ServerSetting {
        ServerSetting(key, variable, default: defaultText, summary, apply: { $0[keyPath: path] = $1 }, show: { $0[keyPath: path] })
    }

    static func optionalText(_ key: String, _ variable: String, _ summary: String, _ path: Path<String?>, secret: Bool = false) -> ServerSetting {
        ServerSetting(
            key, variable, default: "none", summary, secret: secret, apply: { $0[keyPath: path] = $1.isEmpty ? nil : $1 },
            show: { $0[keyPath: path] })
    }

    static func bool(_ key: String, _ variable: String, default defaultText: String, _ summary: String, _ path: Path<Bool>) -> ServerSetting {
        ServerSetting(
            key, variable, default: defaultText, summary,
            apply: { configuration, text in
                guard let flag = SettingValue.bool(text) else { throw SettingProblem("must be true or false, got '\(text)'") }
                configuration[keyPath: path] = flag
            },
            show: { String($0[keyPath: path]) })
    }

    static func positiveInt(_ key: String, _ variable: String, default defaultText: String, _ summary: String, _ path: Path<Int>) -> ServerSetting {
        ServerSetting(
            key, variable, default: defaultText, summary,
            apply: { configuration, text in
                guard let number = Int(text), number > 0 else { throw SettingProblem("must be a positive whole number, got '\(text)'") }
                configuration[keyPath: path] = number
            },
            show: { String($0[keyPath: path]) })
    }

    /// A count where 0 means no limit (nil).
    static func limit(_ key: String, _ variable: String, default defaultText: String, _ summary: String, _ path: Path<Int?>) -> ServerSetting {
        ServerSetting(
            key, variable, default: defaultText, summary,
            apply: { configuration, text in
                guard let number = Int(text), number >= 0 else { throw SettingProblem("must be a whole number (0: no limit), got '\(text)'") }
                configuration[keyPath: path] = number == 0 ? nil : number
            },
            show: { String($0[keyPath: path] ?? 0) })
    }

    static func duration(_ key: String, _ variable: String, default defaultText: String, _ summary: String, _ path: Path<Duration>) -> ServerSetting {
        ServerSetting(
            key, variable, default: defaultText, summary,
            apply: { configuration, text in
                guard let duration = SettingValue.duration(text), duration > .zero else {
                    throw SettingProblem("must be a positive duration like 90s or 250ms, got '\(text)'")
                }
                configuration[keyPath: path] = duration
            },
            show: { SettingValue.text($0[keyPath: path]) })
    }

    /// A duration that `0` turns off (nil).
    static func optionalDuration(
        _ key: String, _ variable: String, default defaultText: String, _ summary: String, _ path: Path<Duration?>
    ) -> ServerSetting {
        ServerSetting(
            key, variable, default: defaultText, summary,
            apply: { configuration, text in
                if text.trimmingCharacters(in: .whitespaces) == "0" { return configuration[keyPath: path] = nil }
                guard let duration = SettingValue.duration(text), duration > .zero else {
                    throw SettingProblem("must be a positive duration like 60s or 250ms (0: never), got '\(text)'")
                }
                configuration[keyPath: path] = duration
            },
            show: { $0[keyPath: path].map(SettingValue.text) ?? "0" })
    }

    static func origins(_ key: String, _ variable: String, _ summary: String, _ path: Path<[String]>) -> ServerSetting {
        ServerSetting(
            key, variable, default: "none", summary,
            apply: { configuration, text in
                configuration[keyPath: path] = try SettingValue.list(text).map { item in
                    guard let origin = SettingValue.origin(item) else {
                        throw SettingProblem("must list origins as scheme://host[:port] (no path; * is not allowed), got '\(item)'")
                    }
                    return origin
                }
            },
            show: { $0[keyPath: path].isEmpty ? nil : $0[keyPath: path].joined(separator: ",") })
    }
}
