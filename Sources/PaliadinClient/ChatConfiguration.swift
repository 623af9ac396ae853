import Foundation

/// Where `paliadin chat` connects, as whom, and how patient it is.
public struct ChatConfiguration: Sendable, Equatable {
    /// The server used when neither `--server` nor `PALIADIN_SERVER` names one.
    public static let defaultServer = "http://127.0.0.1:8080"

    /// Base URL of the server, without a trailing slash: `http://127.0.0.1:8080`.
    public var server: String
    /// Bearer token; nil in dev mode (loopback requests need none).
    public var token: String?
    /// The named backend for the turns (a turn's `backend` field); nil for the server's default.
    public var backend: String?
    /// How a dropped stream is resumed.
    public var resume: ResumePolicy
    /// The longest wait for a TCP connection.
    public var connectTimeout: Duration
    /// The longest wait for the head of an answer (a stream's body is watched by `streamIdleTimeout`).
    public var requestTimeout: Duration
    /// A connection that brings no byte for this long is taken as dropped (the server pings
    /// every 25 s while a turn is silent), and the stream is resumed on a new one.
    public var streamIdleTimeout: Duration
    /// When the user leaves (Ctrl-C twice) while a turn is being started, how long the client
    /// still waits, before it exits, for that turn to start and be cancelled.
    public var cleanupGrace: Duration
    /// The longest line of a turn's stream the client reads, in bytes: far above anything the
    /// server sends (a one-shot backend's whole answer comes as one `{text}` line, with no cap
    /// of its own). A longer one ends the turn's following with `malformedStream` (exit 76).
    public var maxStreamLineLength: Int

    /// A configuration; `server` is used as given (see `resolve` for flags and the environment).
    public init(
        server: String = defaultServer, token: String? = nil, backend: String? = nil, resume: ResumePolicy = ResumePolicy(),
        connectTimeout: Duration = .seconds(5), requestTimeout: Duration = .seconds(30), streamIdleTimeout: Duration = .seconds(75),
        cleanupGrace: Duration = .seconds(2), maxStreamLineLength: Int = 64 << 20
    ) {
        self.server = server
        self.token = token
        self.backend = backend
        self.resume = resume
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.streamIdleTimeout = streamIdleTimeout
        self.cleanupGrace = cleanupGrace
        self.maxStreamLineLength = maxStreamLineLength
    }

    /// The configuration from flags, else the environment (`PALIADIN_SERVER`, `PALIADIN_TOKEN`),
    /// else the defaults. Empty values count as absent. Throws `ChatClientError.invalidServer`
    /// for a server that is not an `http://` or `https://` URL.
    public static func resolve(server: String?, token: String?, backend: String?, environment: [String: String]) throws -> ChatConfiguration {
        func given(_ value: String?) -> String? {
            guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        let server = given(server) ?? given(environment["PALIADIN_SERVER"]) ?? defaultServer
        return ChatConfiguration(
            server: try normalizedServer(server), token: given(token) ?? given(environment["PALIADIN_TOKEN"]), backend: given(backend))
    }

    /// `server` without trailing slashes, once it is known to be an http(s) URL with a host.
    public static func normalizedServer(_ server: String) throws -> String {
        var text = server.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil
        else { throw ChatClientError.invalidServer(server) }
        return text
    }
}
