import HTTPTypes
import Hummingbird

/// Lets pages on the configured origins (`PALIADIN_CORS_ORIGINS`) call the API with a bearer
/// token: it answers their preflight requests and marks every answer to them, errors included
/// (so a 401 or 429 can be read), as readable by that origin. Never with credentials: a
/// browser's cookies do not travel on these requests, and `CrossSiteGuard` refuses a
/// cookie-signed change from another origin anyway.
///
/// Hummingbird's `CORSMiddleware` takes its origins as a variadic list fixed at compile time
/// and leaves thrown errors unmarked, hence this one.
struct CORSPolicy: RouterMiddleware {
    typealias Context = PaliadinRequestContext
    /// Origins as `SettingValue.origin` normalises them.
    let origins: Set<String>

    static let allowedMethods = "GET, POST"
    static let allowedHeaders = "Authorization, Content-Type, Accept, Last-Event-ID"
    static let exposedHeaders = "Retry-After, X-Paliadin-Turn-ID"
    /// How long a browser may keep a preflight answer (seconds).
    static let preflightMaxAge = "600"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin]?.lowercased(), origins.contains(origin) else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: origin, .vary: "Origin", .accessControlAllowMethods: Self.allowedMethods,
                    .accessControlAllowHeaders: Self.allowedHeaders, .accessControlMaxAge: Self.preflightMaxAge,
                ])
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        response.headers[values: .vary].append("Origin")
        return response
    }
}
