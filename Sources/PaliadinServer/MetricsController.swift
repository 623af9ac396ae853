import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /metrics` in the Prometheus text format.
///
/// On the main listener it answers only a request carrying the metrics token as a bearer
/// (`Authorization: Bearer …`, a scraper's credential); without a configured token the route
/// says how to turn it on. On the separate metrics listener (`metricsListen`, meant for a
/// private interface) it answers without a credential.
struct MetricsController<Context: RequestContext> {
    let metrics: ServerMetrics
    /// SHA-256 of the metrics token; nil: no credential is asked (the private listener) when
    /// `open`, else the route is off.
    let tokenDigest: SHA256.Digest?
    /// True on the private metrics listener.
    let open: Bool

    init(metrics: ServerMetrics, token: String?, open: Bool) {
        self.metrics = metrics
        self.tokenDigest = token.map { SHA256.hash(data: Data($0.utf8)) }
        self.open = open
    }

    func addRoutes(to router: Router<Context>) {
        router.get("metrics", use: scrape)
    }

    @Sendable func scrape(request: Request, context: Context) async throws -> Response {
        if !open {
            guard let tokenDigest else {
                throw APIError(
                    .notFound, "metrics are not served here: set PALIADIN_METRICS_TOKEN (scrape with it as a bearer) or PALIADIN_METRICS_LISTEN")
            }
            guard let presented = Self.bearer(request), SHA256.hash(data: Data(presented.utf8)) == tokenDigest else {
                throw APIError(.unauthorized, "metrics need the metrics token as a bearer", headers: [.wwwAuthenticate: "Bearer"])
            }
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
    }

    /// The bearer credential of the request, if any.
    private static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }
}
