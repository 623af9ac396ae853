import HTTPTypes
import Hummingbird
import NIOCore

/// The chat page, the dashboard page, and the static files they load.
struct PageController {
    typealias Context = PaliadinRequestContext
    let assets: AssetLibrary
    /// Origins whose pages may frame the chat page (the widget's drawer); see `AppConfiguration.embedOrigins`.
    let embedOrigins: [String]

    /// Pages hold the user's data, and the API document describes routes that exist only
    /// for owners: they sit behind the owner gate. The chat page may be
    /// framed by Paliadin itself and the configured origins; the dashboard by no one.
    func addPageRoutes(to router: RouterGroup<Context>) {
        let chatAncestors = (["'self'"] + embedOrigins).joined(separator: " ")
        router.get("paliadin") { request, _ in try page("chat.html", for: request, frameAncestors: chatAncestors) }
        router.get("admin/paliadin") { request, _ in try page("admin.html", for: request, frameAncestors: "'none'") }
        router.get("api/paliadin/openapi.json") { request, _ in try file("openapi.json", for: request) }
    }

    /// Scripts and styles hold no data: anyone may load them.
    func addAssetRoutes(to router: Router<Context>) {
        router.get("paliadin/widget.js") { request, _ in try file("widget.js", for: request) }
        router.get("paliadin/assets/{name}") { request, context in
            // Pages and the API document sit behind the owner gate.
            guard let name = context.parameters.get("name"), !name.hasSuffix(".html"), !name.hasSuffix(".json") else { throw APIError.notFound }
            return try file(name, for: request)
        }
    }

    private func page(_ name: String, for request: Request, frameAncestors: String) throws -> Response {
        var response = try file(name, for: request)
        response.headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors \(frameAncestors)"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }

    /// A shipped file. Browsers keep it but ask again each time (`no-cache` with an `ETag`),
    /// so a new release is picked up at once and an unchanged file costs a 304 only.
    private func file(_ name: String, for request: Request) throws -> Response {
        guard let asset = assets[name] else { throw APIError.notFound }
        var headers: HTTPFields = [
            .cacheControl: "no-cache", .eTag: asset.etag, HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if Self.matches(request.headers[.ifNoneMatch], asset.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = asset.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }

    /// True when `If-None-Match` names the tag (or is `*`); weak tags compare by their value.
    static func matches(_ ifNoneMatch: String?, _ etag: String) -> Bool {
        guard let ifNoneMatch else { return false }
        return ifNoneMatch.split(separator: ",").contains { candidate in
            let tag = candidate.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }
}
