import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PaliadinServer

/// `paliadin serve`: runs the gateway.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Paliadin server.",
        discussion: """
            Every option can also be set by the environment variable named in its help; a flag wins \
            over the environment. Durations take ms, s, m or h (a plain number is seconds).
            """)

    @Option(help: "Address to listen on, host:port. [env PALIADIN_LISTEN, default 127.0.0.1:8080]")
    var listen: String?

    @Option(
        help: """
            SQLite database file (created with its folder when missing), or a postgres://user@host:port/db URL that several \
            instances can share. [env PALIADIN_DATABASE, default ./data/paliadin.sqlite]
            """)
    var database: String?

    @Option(help: "PostgreSQL only: most database connections open at once. [env PALIADIN_DATABASE_POOL, default 16]")
    var databasePool: String?

    @Option(help: "PostgreSQL only: how often this instance says it is alive and looks for dead ones. [env PALIADIN_HEARTBEAT, default 5s]")
    var heartbeat: String?

    @Option(
        help: """
            PostgreSQL only: an instance silent this long is presumed dead and a survivor closes its running turns as \
            interrupted. [env PALIADIN_INSTANCE_TIMEOUT, default 20s]
            """)
    var instanceTimeout: String?

    @Option(help: "Base URL of the OpenAI-compatible backend, e.g. http://127.0.0.1:8081/v1. [env PALIADIN_BACKEND_URL]")
    var backendURL: String?

    @Option(help: "Most connections open at once to the backend; each streaming turn holds one. [env PALIADIN_BACKEND_CONNECTIONS, default 512]")
    var backendConnections: String?

    @Option(help: "How long an unused backend connection is kept for the next turn. [env PALIADIN_BACKEND_IDLE_TIMEOUT, default 10s]")
    var backendIdleTimeout: String?

    @Option(help: "Model name sent to the backend. [env PALIADIN_MODEL, default smollm2]")
    var model: String?

    @Option(help: "API key for the backend; prefer the environment variable, flags show in process lists. [env PALIADIN_API_KEY]")
    var apiKey: String?

    @Option(help: "Comma-separated user ids or emails allowed to use the assistant. [env PALIADIN_OWNERS]")
    var owners: String?

    @Option(
        help: """
            Comma-separated addresses or CIDR blocks (10.0.0.0/8, ::1) of reverse proxies whose user header is believed; \
            the header from any other peer is ignored. [env PALIADIN_TRUSTED_PROXIES, default none]
            """)
    var trustedProxies: String?

    @Option(help: "Header in which a trusted proxy names the signed-in user. [env PALIADIN_PROXY_USER_HEADER, default X-Forwarded-User]")
    var proxyUserHeader: String?

    @Option(
        help: """
            Key the host app signs session tokens with (JWT, HS256, at least 32 bytes); browsers sign in at \
            /paliadin/session?token=…. Prefer the environment variable. [env PALIADIN_SESSION_KEY, default none: no session tokens]
            """)
    var sessionKey: String?

    @Option(help: "When set, session tokens must carry this issuer (iss). [env PALIADIN_SESSION_ISSUER]")
    var sessionIssuer: String?

    @Option(help: "When set, session tokens must list this audience (aud). [env PALIADIN_SESSION_AUDIENCE]")
    var sessionAudience: String?

    @Option(help: "Dev mode: requests from loopback without credentials act as this user, who is an owner. [env PALIADIN_DEV_USER]")
    var devUser: String?

    @Option(help: "false: none of the assistant's routes exist. [env PALIADIN_ENABLED, default true]")
    var enabled: String?

    @Option(help: "A streaming backend silent this long fails the turn (upstream_silence). [env PALIADIN_SILENCE_TIMEOUT, default 90s]")
    var silenceTimeout: String?

    @Option(help: "Interval of 'thinking' events while the backend is silent. [env PALIADIN_THINKING_INTERVAL, default 5s]")
    var thinkingInterval: String?

    @Option(help: "Hard ceiling of a streaming turn (upstream_timeout). [env PALIADIN_TURN_DEADLINE, default 30m]")
    var turnDeadline: String?

    @Option(help: "Hard ceiling of a one-shot backend. [env PALIADIN_ONESHOT_DEADLINE, default 150s]")
    var oneShotDeadline: String?

    @Option(help: "Keep-alive 'ping' interval on idle streams. [env PALIADIN_PING_INTERVAL, default 25s]")
    var pingInterval: String?

    @Option(help: "On shutdown, time running turns get before they are closed as interrupted. [env PALIADIN_SHUTDOWN_GRACE, default 10s]")
    var shutdownGrace: String?

    @Option(help: "A stream whose reader takes no data this long is closed (it may resume); 0: never. [env PALIADIN_STALLED_READER_TIMEOUT, default 60s]")
    var stalledReaderTimeout: String?

    @Option(help: "A connection with no request in progress is closed after this long; 0: never. [env PALIADIN_IDLE_TIMEOUT, default 75s]")
    var idleTimeout: String?

    @Option(help: "A turn pending this long is reported 'lost' by recover. [env PALIADIN_RECOVER_GIVE_UP, default 12m]")
    var recoverGiveUp: String?

    @Option(help: "Turns one user may start per minute (429 with Retry-After beyond); 0: no limit. [env PALIADIN_USER_TURNS_PER_MINUTE, default 30]")
    var userTurnsPerMinute: String?

    @Option(help: "Turns of one user running at once (429 beyond); 0: no limit. [env PALIADIN_USER_CONCURRENT_TURNS, default 4]")
    var userConcurrentTurns: String?

    @Option(help: "Largest accepted request body in bytes. [env PALIADIN_MAX_BODY, default 65536]")
    var maxBody: String?

    @Option(help: "System prompt placed before the page context. [env PALIADIN_SYSTEM_PROMPT]")
    var systemPrompt: String?

    @Option(help: "Characters of earlier exchanges sent along to a stateless backend. [env PALIADIN_HISTORY_BUDGET, default 12000]")
    var historyBudget: String?

    @Option(help: "YAML file naming several backends (openai, anthropic) and the default one; replaces the backend flags. [env PALIADIN_BACKENDS_FILE]")
    var backendsFile: String?

    @Option(help: "Comma-separated origins (https://app.example.com) whose pages may embed the chat through the widget. [env PALIADIN_EMBED_ORIGINS, default none]")
    var embedOrigins: String?

    @Option(help: "Comma-separated origins (https://tools.example.com) of pages that may call the API with a bearer token (CORS). [env PALIADIN_CORS_ORIGINS, default none]")
    var corsOrigins: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error. [env PALIADIN_LOG_LEVEL, default info]")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings = SettingSource(flags: self, environment: environment)
        let configuration = try settings.configuration()
        let level = settings.value(logLevel, "PALIADIN_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "paliadin")
        let app = try await buildApplication(configuration, logger: logger)
        let base = "http://\(configuration.host):\(configuration.port)"
        var banner = "Paliadin chat page: \(base)/paliadin  (dashboard: \(base)/admin/paliadin)\n"
        if let devUser = configuration.devUser {
            banner += "Dev mode: requests from this machine act as \(devUser); no login needed.\n"
        } else {
            banner += "Log in with a bearer token: paliadin token create --user EMAIL\n"
            if configuration.sessionKey != nil { banner += "Browsers sign in at \(base)/paliadin/session?token=<token signed by your app>\n" }
        }
        // Written straight to the file descriptor, so it shows at once even when stdout is a pipe.
        FileHandle.standardOutput.write(Data(banner.utf8))
        try await app.runService()
    }
}

/// Reads each setting from its flag, else its environment variable.
struct SettingSource {
    let flags: Serve
    let environment: [String: String]

    func value(_ flag: String?, _ variable: String) -> String? {
        if let flag { return flag }
        if let value = environment[variable], !value.isEmpty { return value }
        return nil
    }

    func configuration() throws -> AppConfiguration {
        var configuration = AppConfiguration()
        if let listen = value(flags.listen, "PALIADIN_LISTEN") {
            guard let address = SettingValue.listenAddress(listen) else { throw ValidationError("listen must be host:port, got '\(listen)'") }
            (configuration.host, configuration.port) = address
        }
        if let database = value(flags.database, "PALIADIN_DATABASE") { configuration.databasePath = database }
        if let pool = value(flags.databasePool, "PALIADIN_DATABASE_POOL") {
            guard let count = Int(pool), count > 0 else { throw ValidationError("database pool must be a positive number, got '\(pool)'") }
            configuration.databasePool = count
        }
        try duration(flags.heartbeat, "PALIADIN_HEARTBEAT") { configuration.heartbeatInterval = $0 }
        try duration(flags.instanceTimeout, "PALIADIN_INSTANCE_TIMEOUT") { configuration.instanceTimeout = $0 }
        guard configuration.instanceTimeout > configuration.heartbeatInterval * 2 else {
            throw ValidationError("instance timeout must be more than twice the heartbeat interval, or live instances look dead")
        }
        if let url = value(flags.backendURL, "PALIADIN_BACKEND_URL") {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ValidationError("backend URL must start with http:// or https://, got '\(url)'")
            }
            configuration.backendURL = url
        }
        if let model = value(flags.model, "PALIADIN_MODEL") { configuration.model = model }
        if let connections = value(flags.backendConnections, "PALIADIN_BACKEND_CONNECTIONS") {
            guard let count = Int(connections), count > 0 else { throw ValidationError("backend connections must be a positive number") }
            configuration.backendConnections = count
        }
        configuration.apiKey = value(flags.apiKey, "PALIADIN_API_KEY")
        if let owners = value(flags.owners, "PALIADIN_OWNERS") { configuration.owners = Set(SettingValue.list(owners)) }
        if let proxies = value(flags.trustedProxies, "PALIADIN_TRUSTED_PROXIES") {
            configuration.trustedProxies = try SettingValue.list(proxies).map { text in
                guard let range = AddressRange(text) else {
                    throw ValidationError("trusted proxies must be IP addresses or CIDR blocks (10.0.0.0/8), got '\(text)'")
                }
                return range
            }
        }
        if let header = value(flags.proxyUserHeader, "PALIADIN_PROXY_USER_HEADER") {
            guard SettingValue.headerName(header) else { throw ValidationError("proxy user header must be a header name, got '\(header)'") }
            configuration.proxyUserHeader = header
        }
        if let key = value(flags.sessionKey, "PALIADIN_SESSION_KEY") {
            guard key.utf8.count >= SessionTokenVerifier.minimumKeyBytes else { throw ValidationError(SessionTokenVerifier.ShortKey().description) }
            configuration.sessionKey = key
        }
        configuration.sessionIssuer = value(flags.sessionIssuer, "PALIADIN_SESSION_ISSUER")
        configuration.sessionAudience = value(flags.sessionAudience, "PALIADIN_SESSION_AUDIENCE")
        configuration.devUser = value(flags.devUser, "PALIADIN_DEV_USER")
        if let enabled = value(flags.enabled, "PALIADIN_ENABLED") {
            guard let flag = SettingValue.bool(enabled) else { throw ValidationError("enabled must be true or false, got '\(enabled)'") }
            configuration.enabled = flag
        }
        try duration(flags.backendIdleTimeout, "PALIADIN_BACKEND_IDLE_TIMEOUT") { configuration.backendIdleTimeout = $0 }
        try duration(flags.silenceTimeout, "PALIADIN_SILENCE_TIMEOUT") { configuration.engine.timing.silenceLimit = $0 }
        try duration(flags.thinkingInterval, "PALIADIN_THINKING_INTERVAL") { configuration.engine.timing.thinkingInterval = $0 }
        try duration(flags.turnDeadline, "PALIADIN_TURN_DEADLINE") { configuration.engine.timing.streamingDeadline = $0 }
        try duration(flags.oneShotDeadline, "PALIADIN_ONESHOT_DEADLINE") { configuration.engine.timing.oneShotDeadline = $0 }
        try duration(flags.pingInterval, "PALIADIN_PING_INTERVAL") { configuration.engine.pingInterval = $0 }
        try duration(flags.shutdownGrace, "PALIADIN_SHUTDOWN_GRACE") { configuration.engine.shutdownGrace = $0 }
        try duration(flags.recoverGiveUp, "PALIADIN_RECOVER_GIVE_UP") { configuration.recoveryGiveUp = $0 }
        try optionalDuration(flags.stalledReaderTimeout, "PALIADIN_STALLED_READER_TIMEOUT") { configuration.stalledReaderTimeout = $0 }
        try optionalDuration(flags.idleTimeout, "PALIADIN_IDLE_TIMEOUT") { configuration.idleConnectionTimeout = $0 }
        if let rate = value(flags.userTurnsPerMinute, "PALIADIN_USER_TURNS_PER_MINUTE") {
            guard let count = Int(rate), count >= 0 else { throw ValidationError("user turns per minute must be a number (0: no limit), got '\(rate)'") }
            configuration.engine.userLimits.turnsPerMinute = count == 0 ? nil : count
        }
        if let running = value(flags.userConcurrentTurns, "PALIADIN_USER_CONCURRENT_TURNS") {
            guard let count = Int(running), count >= 0 else { throw ValidationError("user concurrent turns must be a number (0: no limit), got '\(running)'") }
            configuration.engine.userLimits.concurrentTurns = count == 0 ? nil : count
        }
        if let maxBody = value(flags.maxBody, "PALIADIN_MAX_BODY") {
            guard let bytes = Int(maxBody), bytes > 0 else { throw ValidationError("max body must be a positive number of bytes") }
            configuration.maxBodyBytes = bytes
        }
        if let prompt = value(flags.systemPrompt, "PALIADIN_SYSTEM_PROMPT") { configuration.systemPrompt = prompt }
        if let budget = value(flags.historyBudget, "PALIADIN_HISTORY_BUDGET") {
            guard let chars = Int(budget), chars >= 0 else { throw ValidationError("history budget must be a number of characters") }
            configuration.historyBudget = chars
        }
        if let path = value(flags.backendsFile, "PALIADIN_BACKENDS_FILE") {
            do {
                configuration.backendsFile = try BackendsFileLoader.load(path: path)
            } catch let error as BackendsFileError {
                throw ValidationError(error.description)
            }
        }
        if let origins = value(flags.corsOrigins, "PALIADIN_CORS_ORIGINS") {
            configuration.corsOrigins = try SettingValue.list(origins).map { text in
                guard let origin = SettingValue.origin(text) else {
                    throw ValidationError("CORS origins must be scheme://host[:port] (no path; * is not allowed), got '\(text)'")
                }
                return origin
            }
        }
        if let origins = value(flags.embedOrigins, "PALIADIN_EMBED_ORIGINS") {
            configuration.embedOrigins = try SettingValue.list(origins).map { text in
                guard let origin = SettingValue.origin(text) else {
                    throw ValidationError("embed origins must be scheme://host[:port] (no path; * is not allowed), got '\(text)'")
                }
                return origin
            }
        }
        return configuration
    }

    /// A duration that `0` turns off (nil).
    private func optionalDuration(_ flag: String?, _ variable: String, apply: (Duration?) -> Void) throws {
        guard let text = value(flag, variable) else { return }
        if text == "0" { return apply(nil) }
        guard let duration = SettingValue.duration(text), duration > .zero else {
            throw ValidationError("\(variable) must be a positive duration like 60s or 250ms (0: never), got '\(text)'")
        }
        apply(duration)
    }

    private func duration(_ flag: String?, _ variable: String, apply: (Duration) -> Void) throws {
        guard let text = value(flag, variable) else { return }
        guard let duration = SettingValue.duration(text), duration > .zero else {
            throw ValidationError("\(variable) must be a positive duration like 90s or 250ms, got '\(text)'")
        }
        apply(duration)
    }
}
