import Logging
import PaliadinCore
import PaliadinEngine

/// Everything `paliadin serve` can be told, with the contract's defaults.
public struct AppConfiguration: Sendable {
    /// Address to listen on.
    public var host = "127.0.0.1"
    public var port = 8080
    /// SQLite database file (created with its folder when missing), or a `postgres://` URL
    /// of a PostgreSQL database that several instances may share.
    public var databasePath = "./data/paliadin.sqlite"
    /// Most connections to PostgreSQL open at once (per instance).
    public var databasePool = 16
    /// With PostgreSQL: how often the instance says it is alive and looks for dead ones.
    public var heartbeatInterval: Duration = .seconds(5)
    /// With PostgreSQL: an instance silent this long is presumed dead, and a survivor closes
    /// its running turns as `interrupted`.
    public var instanceTimeout: Duration = .seconds(20)
    /// Base URL of the OpenAI-compatible backend, ending in its API version.
    public var backendURL = "http://127.0.0.1:8081/v1"
    /// Most connections open at once to the backend (each streaming turn holds one).
    public var backendConnections = 512
    /// How long an unused backend connection is kept for the next turn.
    public var backendIdleTimeout: Duration = .seconds(10)
    /// Several named backends (from `--backends-file`); when set, the single backend above is not used.
    public var backendsFile: BackendsFile?
    /// Where `backendsFile` was read from (nil: not from a file of its own).
    public var backendsFilePath: String?
    /// Model name sent to the backend.
    public var model = "smollm2"
    /// API key for the backend, if it wants one. Never logged.
    public var apiKey: String?
    /// Users who may use the assistant (ids or emails, compared case-insensitively for emails).
    public var owners: Set<String> = []
    /// Reverse proxies whose `proxyUserHeader` names the user. The header of any other
    /// peer is ignored.
    public var trustedProxies: [AddressRange] = []
    /// The header in which a trusted proxy names the signed-in user.
    public var proxyUserHeader = "X-Forwarded-User"
    /// The key the host app signs session tokens with (HS256, at least 32 bytes). Without
    /// it, session tokens are not accepted. Never logged.
    public var sessionKey: String?
    /// When set, session tokens must carry this issuer (`iss`).
    public var sessionIssuer: String?
    /// When set, session tokens must list this audience (`aud`).
    public var sessionAudience: String?
    /// Dev mode: requests from loopback without credentials act as this user (an owner).
    public var devUser: String?
    /// When false none of the assistant's routes exist.
    public var enabled = true
    /// Turn engine settings (timing rules, keep-alive, shutdown grace, per-user limits).
    public var engine = EngineConfiguration(userLimits: .serverDefault)
    /// When a turn still pending is reported `lost` by `recover`.
    public var recoveryGiveUp: Duration = .seconds(12 * 60)
    /// Largest accepted request body.
    public var maxBodyBytes = 64 * 1024
    /// System prompt before the page context.
    public var systemPrompt = "You are Paliadin, a helpful assistant embedded in a web application. Answer concisely."
    /// Characters of earlier exchanges sent to a stateless backend.
    public var historyBudget = 12_000
    /// The `retry:` hint (milliseconds) sent at the start of every stream.
    public var sseRetryMS = 2000
    /// A stream whose reader took no data for this long is closed (the reader may resume);
    /// nil: never.
    public var stalledReaderTimeout: Duration? = .seconds(60)
    /// A connection with no request in progress (between keep-alive requests, or one whose
    /// request never arrives whole) is closed after this long; nil: never. Streams are not
    /// affected while they run.
    public var idleConnectionTimeout: Duration? = .seconds(75)
    /// Origins (`https://app.example.com`) of web apps whose pages may embed the chat page
    /// through the widget, besides Paliadin's own. Sent as the chat page's
    /// `frame-ancestors`.
    public var embedOrigins: [String] = []

    /// Origins (`https://tools.example.com`) of pages that may call the API with a bearer
    /// token (CORS). Cookies never travel on those requests.
    public var corsOrigins: [String] = []

    /// Besides owners, a request carrying this bearer token may read `GET /metrics` (a
    /// Prometheus scraper's credential). Never logged.
    public var metricsToken: String?
    /// When set, a second listener on this address serves `GET /metrics` alone, without
    /// credentials (keep it on a private interface).
    public var metricsListen: ListenAddress?
    /// OTLP/HTTP endpoint (`http://127.0.0.1:4318`) traces are exported to; nil: tracing is off.
    public var otlpEndpoint: String?
    /// Send spans as OTLP JSON instead of binary protobuf (for collectors that want it).
    public var otlpJSON = false
    /// `service.name` on exported traces.
    public var serviceName = "paliadin"
    /// The least severe level that is logged.
    public var logLevel: Logger.Level = .info
    /// How log lines are written.
    public var logFormat: LogFormat = .text

    public init() {}

    /// True when the database is a PostgreSQL URL rather than a SQLite file.
    public var usesPostgres: Bool {
        databasePath.hasPrefix("postgres://") || databasePath.hasPrefix("postgresql://")
    }

    /// The owners, with the dev user added.
    public var effectiveOwners: Set<String> {
        var owners = Set(self.owners.map(Self.normalize))
        if let devUser { owners.insert(Self.normalize(devUser)) }
        return owners
    }

    /// User ids compare case-insensitively (they are usually emails).
    public static func normalize(_ user: String) -> String {
        user.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
