import PaliadinCore

/// What can go wrong between `paliadin chat` and the server, each with a message a person can act on.
public enum ChatClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server setting is not an http(s) URL.
    case invalidServer(String)
    /// No connection to the server (refused, unresolvable, timed out).
    case unreachable(server: String, detail: String)
    /// 401: no valid credentials.
    case unauthorized(server: String)
    /// 404 on a route every owner has: the user is not an owner, or the assistant is disabled there.
    case notOwner(server: String)
    /// 404 for a turn the client itself started.
    case turnNotFound(turnID: String)
    /// 429: over a per-user limit; `retryAfterSeconds` from the `Retry-After` header.
    case rateLimited(message: String, retryAfterSeconds: Int?)
    /// 503: the server is shutting down or otherwise unavailable.
    case unavailable(server: String, message: String)
    /// 400 or 413: the server refused the request.
    case rejected(status: Int, message: String)
    /// Any other answer the client did not expect.
    case unexpectedResponse(status: Int, message: String)
    /// The turn's stream dropped and could not be resumed for `gaveUpAfter`.
    case streamLost(turnID: String, gaveUpAfter: Duration, detail: String)
    /// The turn's stream could not be read as an event stream (a line over the client's limit):
    /// reading it again would fail the same way.
    case malformedStream(turnID: String, detail: String)

    /// The exit status this error ends the command with.
    public var exitCode: ChatExitCode {
        switch self {
        case .invalidServer: .usage
        case .unreachable, .unavailable, .streamLost: .unavailable
        case .unauthorized, .notOwner: .notPermitted
        case .turnNotFound, .unexpectedResponse, .malformedStream: .protocolError
        case .rateLimited: .temporaryFailure
        case .rejected: .dataError
        }
    }

    /// True for errors that no later request of this session can get past (credentials, ownership,
    /// a wrong server setting): the interactive prompt ends on them instead of asking again.
    public var endsSession: Bool {
        switch self {
        case .invalidServer, .unauthorized, .notOwner: true
        default: false
        }
    }

    /// True when reconnecting a dropped stream may get past this error (5xx answers).
    var isRetryableOnStream: Bool {
        switch self {
        case .unavailable, .unreachable: true
        case .unexpectedResponse(let status, _): status >= 500
        default: false
        }
    }

    /// The message shown after `paliadin: `.
    public var description: String {
        switch self {
        case .invalidServer(let text):
            "'\(text)' is not a server URL; give one like http://127.0.0.1:8080 (--server or PALIADIN_SERVER)"
        case .unreachable(let server, let detail):
            "cannot reach Paliadin at \(server) (\(detail)); is it running? (--server or PALIADIN_SERVER)"
        case .unauthorized(let server):
            "Paliadin at \(server) answered 401: no valid credentials. Give a token with PALIADIN_TOKEN (or --token); "
                + "create one with `paliadin token create --user YOU`"
        case .notOwner(let server):
            "Paliadin at \(server) answered 404: this user is not an owner (PALIADIN_OWNERS), or the assistant is disabled there"
        case .turnNotFound(let turnID):
            "the server no longer knows turn \(turnID) (404)"
        case .rateLimited(let message, let retryAfter):
            // The server's message usually says when already; the header is added only when it does not.
            "the server refused another turn for now (429): \(message)"
                + (message.contains("try again") ? "" : retryAfter.map { "; try again in \(DurationText.format(.seconds($0)))" } ?? "")
        case .unavailable(let server, let message):
            "Paliadin at \(server) is unavailable (503): \(message)"
        case .rejected(let status, let message):
            "the server refused the request (\(status)): \(message)"
        case .unexpectedResponse(let status, let message):
            "unexpected answer from the server (\(status)): \(message)"
        case .streamLost(let turnID, let gaveUpAfter, let detail):
            "lost the stream of turn \(turnID) and could not resume it for \(DurationText.format(gaveUpAfter)) (\(detail)); "
                + "the turn may still finish on the server: GET /api/paliadin/turn/\(turnID)"
        case .malformedStream(let turnID, let detail):
            "cannot read the stream of turn \(turnID): \(detail); the turn is stored on the server: GET /api/paliadin/turn/\(turnID)"
        }
    }

    /// The few words that say what went wrong, for a note that has its own context
    /// ("could not cancel turn X (connection refused)").
    var shortDescription: String {
        switch self {
        case .unreachable(_, let detail): detail
        default: description
        }
    }
}
