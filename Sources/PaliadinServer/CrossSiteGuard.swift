import HTTPTypes
import Hummingbird

/// Refuses requests that change something when a browser says they come from another site:
/// a page elsewhere must not start, cancel or reset turns with the user's credentials
/// (a form or `fetch` with `text/plain` needs no CORS preflight). Browsers send `Origin` on
/// every such request and `Sec-Fetch-Site` on all of them; other clients send neither.
/// A caller signed in by the session cookie is a browser, which sends the cookie by itself:
/// such a request must show an `Origin`, and it must be this server's.
/// Runs after the authenticator, so it knows how the caller signed in.
/// Pages on the origins listed for CORS may change things too, but only with a credential
/// in `Authorization`, which a browser never adds by itself.
struct CrossSiteGuard: RouterMiddleware {
    typealias Context = PaliadinRequestContext
    /// `PALIADIN_CORS_ORIGINS`, normalised.
    var corsOrigins: Set<String> = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method != .get, request.method != .head {
            if Self.isCrossSite(request), !isAllowedCORSCaller(request, context: context) {
                throw APIError(.forbidden, "cross-site request refused")
            }
            if context.identity?.credential == .sessionCookie, request.headers[HTTPField.Name("Origin")!] == nil {
                throw APIError(.forbidden, "a request signed in by cookie must carry its Origin")
            }
        }
        return try await next(request, context)
    }

    /// A listed origin whose request names its caller in `Authorization`.
    func isAllowedCORSCaller(_ request: Request, context: Context) -> Bool {
        guard let origin = request.headers[HTTPField.Name("Origin")!]?.lowercased(), corsOrigins.contains(origin) else { return false }
        return context.identity?.credential == .apiToken || context.identity?.credential == .sessionBearer
    }

    static func isCrossSite(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" || site == "same-site" {
            return true
        }
        guard let origin = request.headers[HTTPField.Name("Origin")!] else { return false }
        // "null" comes from sandboxed frames and file pages: never this server's own pages.
        guard origin != "null", let authority = request.head.authority else { return true }
        let host = origin.split(separator: "://", maxSplits: 1).last.map(String.init) ?? ""
        return host.lowercased() != authority.lowercased()
    }
}
