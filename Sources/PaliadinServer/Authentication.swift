import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import PaliadinStore

/// Finds out who is asking, in this order: a bearer token (an API token, stored hashed, or
/// a host-app-signed session token); the user a trusted reverse proxy names; a session token
/// in the `paliadin_session` cookie; or, in dev mode, any request from loopback that brings
/// no credentials. A credential that fails is not replaced by a later one.
struct PaliadinAuthenticator: AuthenticatorMiddleware {
    typealias Context = PaliadinRequestContext
    let store: any TurnStore
    let devUser: String?
    var trustedProxies: [AddressRange] = []
    var proxyUserHeader = HTTPField.Name("X-Forwarded-User")!
    var sessions: SessionTokenVerifier?

    /// The cookie that holds a browser's session token.
    static let sessionCookie = "paliadin_session"

    func authenticate(request: Request, context: Context) async throws -> PaliadinUser? {
        if let bearer = request.headers.bearer {
            if let sessions, !bearer.token.hasPrefix(TokenHasher.prefix), case .success(let session) = await sessions.verify(bearer.token) {
                return PaliadinUser(id: session.userID, credential: .sessionBearer)
            }
            guard let user = try await store.tokenUser(hash: TokenHasher.hash(bearer.token)) else { return nil }
            return PaliadinUser(id: user, credential: .apiToken)
        }
        if let user = proxyUser(request, context: context) { return PaliadinUser(id: user, credential: .proxy) }
        if let sessions, let cookie = request.cookies[Self.sessionCookie] {
            guard case .success(let session) = await sessions.verify(cookie.value) else { return nil }
            return PaliadinUser(id: session.userID, credential: .sessionCookie)
        }
        if let devUser, request.headers[.authorization] == nil, context.isLoopback, !Self.isForwarded(request),
            Self.namesLoopback(request.head.authority)
        {
            return PaliadinUser(id: devUser, credential: .devMode)
        }
        return nil
    }

    /// The user named by `proxyUserHeader`, when the peer is one of the trusted proxies
    /// (anyone else could write that header) and the name is plausible.
    func proxyUser(_ request: Request, context: Context) -> String? {
        guard !trustedProxies.isEmpty, let name = request.headers[proxyUserHeader],
            let peer = context.remoteAddress, trustedProxies.contains(where: { $0.contains(peer) })
        else { return nil }
        let user = name.trimmingCharacters(in: .whitespaces)
        guard !user.isEmpty, user.count <= 320, !user.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return nil
        }
        return user
    }

    /// True when the request was addressed to this machine by a loopback name: a page on
    /// another site that re-points its own host name at 127.0.0.1 (DNS rebinding) sends its
    /// own name, and dev mode must not answer it.
    static func namesLoopback(_ authority: String?) -> Bool {
        guard var host = authority?.lowercased(), !host.isEmpty else { return false }
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = String(host[host.index(after: host.startIndex)..<end])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// A request a reverse proxy passed on comes from loopback too, but not from this machine's
    /// user: dev mode must not let it in.
    static func isForwarded(_ request: Request) -> Bool {
        ["Forwarded", "X-Forwarded-For", "X-Real-IP"].contains { request.headers[HTTPField.Name($0)!] != nil }
    }
}

/// Lets owners through; answers 401 to strangers and 404 to users who are not owners
/// (for them the assistant "does not exist").
struct OwnerGate: RouterMiddleware {
    typealias Context = PaliadinRequestContext
    let owners: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let user = context.identity else {
            throw APIError(.unauthorized, "authentication required", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard owners.contains(user.id) else { throw APIError.notFound }
        return try await next(request, context)
    }
}

/// Makes and hashes API tokens.
public enum TokenHasher {
    /// What every API token starts with; anything else in `Authorization: Bearer` is read
    /// as a session token.
    public static let prefix = "pal_"

    /// A new random token: `pal_` and 43 URL-safe base64 characters (256 bits).
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return prefix + text
    }

    /// The SHA-256 of a token, in hex: what the store keeps.
    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
