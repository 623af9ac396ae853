import HTTPTypes
import Hummingbird
import NIOCore

/// The chat page, the dashboard page, and the static files they load.
struct PageController {
    typealias Context = PaliadinRequestContext
    let assets: AssetLibrary
    /// Origins whose pages may frame the chat page (the widget's drawer); see `AppConfiguration.embedOrigins`.
    let embedOrigins: [String]

    /// Pages hold the user's data: they sit behind the owner gate. The chat page may be
    /// framed by Paliadin itself and the configured origins; the dashboard by no one.
    func addPageRoutes(to router: RouterGroup<Context>) {
        let chatAncestors = (["'self'"] + embedOrigins).joined(separator: " ")
        router.get("paliadin") { _, _ in try page("chat.html", frameAncestors: chatAncestors) }
        router.get("admin/paliadin") { _, _ in try page("admin.html", frameAncestors: "'none'") }
    }

    /// Scripts and styles hold no data: anyone may load them.
    func addAssetRoutes(to router: Router<Context>) {
        router.get("paliadin/widget.js") { _, _ in try file("widget.js") }
        router.get("paliadin/assets/{name}") { _, context in
            guard let name = context.parameters.get("name"), !name.hasSuffix(".html") else { throw APIError.notFound }
            return try file(name)
        }
    }

    private func page(_ name: String, frameAncestors: String) throws -> Response {
        var response = try file(name, cacheControl: "no-cache")
        response.headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors \(frameAncestors)"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return response
    }

    private func file(_ name: String, cacheControl: String = "public, max-age=300") throws -> Response {
        guard let asset = assets[name] else { throw APIError.notFound }
        return Response(
            status: .ok,
            headers: [
                .contentType: asset.contentType, .cacheControl: cacheControl,
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: asset.body))
    }
}
