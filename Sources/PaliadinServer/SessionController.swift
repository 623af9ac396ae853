import Foundation
import HTTPTypes
import Hummingbird

/// Browser sign-in with a session token the host app signed: `GET /paliadin/session?token=…`
/// checks the token, keeps it in an HttpOnly cookie and sends the browser on to `next` (the
/// chat page by default), so the token leaves the address bar at once. `POST
/// /api/paliadin/logout` forgets the cookie.
struct SessionController {
    typealias Context = PaliadinRequestContext
    let sessions: SessionTokenVerifier
    let owners: Set<String>

    /// The sign-in route checks its own token; the logout route sits behind the owner gate.
    func addRoutes(to router: Router<Context>, gated: RouterGroup<Context>) {
        router.get("paliadin/session") { request, _ in try await signIn(request) }
        gated.post("api/paliadin/logout") { request, _ in
            var response = Response(status: .noContent, headers: Self.privateHeaders)
            response.setCookie(Self.cookie(value: "", maxAge: 0, for: request))
            return response
        }
    }

    private func signIn(_ request: Request) async throws -> Response {
        guard let token = request.uri.queryParameters.get("token"), !token.isEmpty else {
            throw APIError(.badRequest, "token required")
        }
        guard Self.isCookieSafe(token), case .success(let session) = await sessions.verify(token) else {
            throw APIError(.unauthorized, "invalid or expired session token")
        }
        guard owners.contains(AppConfiguration.normalize(session.userID)) else { throw APIError.notFound }
        let next = Self.localPath(request.uri.queryParameters.get("next")) ?? "/paliadin"
        var headers = Self.privateHeaders
        headers[.location] = next
        var response = Response(status: .seeOther, headers: headers)
        let lifetime = Int(session.expiresAt.timeIntervalSinceNow.rounded(.down))
        response.setCookie(Self.cookie(value: token, maxAge: max(lifetime, 0), for: request))
        return response
    }

    /// Nothing here may be cached or passed on as a referrer: the URL held a credential.
    private static let privateHeaders: HTTPFields = [.cacheControl: "no-store", HTTPField.Name("Referrer-Policy")!: "no-referrer"]

    /// HttpOnly (no script reads it), SameSite=Lax (another site's requests do not carry it),
    /// Secure unless the server is addressed by a loopback name (plain-HTTP local use).
    static func cookie(value: String, maxAge: Int, for request: Request) -> Cookie {
        Cookie(
            name: PaliadinAuthenticator.sessionCookie, value: value, maxAge: maxAge, path: "/",
            secure: !PaliadinAuthenticator.namesLoopback(request.head.authority), httpOnly: true, sameSite: .lax)
    }

    /// A path on this server (`/…`, not `//host` or `/\host`, which browsers read as another
    /// site): `next` must not send a signed-in browser elsewhere.
    static func localPath(_ text: String?) -> String? {
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), !text.hasPrefix("/\\"),
            text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f })
        else { return nil }
        return text
    }

    /// A JWT is base64url parts joined by dots; anything else cannot be a token and must not
    /// reach a `Set-Cookie` header.
    static func isCookieSafe(_ token: String) -> Bool {
        token.utf8.count <= 4096
            && token.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }
}
