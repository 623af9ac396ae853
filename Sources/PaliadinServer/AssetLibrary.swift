import Crypto
import Foundation
import NIOCore

/// The web assets shipped in the package (pages, scripts, styles), read once at start-up.
struct AssetLibrary: Sendable {
    /// One file ready to serve.
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        /// A strong validator of the content (part of its SHA-256), quoted as `ETag` wants it.
        let etag: String
    }

    private let assets: [String: Asset]

    /// Loads every file of the `Assets` resource folder.
    init() throws {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Assets") else {
            throw AssetError.missingBundle
        }
        var assets: [String: Asset] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let digest = SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined()
            assets[name] = Asset(body: ByteBuffer(bytes: data), contentType: Self.contentType(of: name), etag: "\"\(digest)\"")
        }
        self.assets = assets
    }

    subscript(name: String) -> Asset? { assets[name] }

    static func contentType(of name: String) -> String {
        switch (name as NSString).pathExtension {
        case "html": "text/html; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    enum AssetError: Error {
        case missingBundle
    }
}
