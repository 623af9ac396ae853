import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import PaliadinServer
import Testing

/// Session tokens as a host app would sign them.
enum HostApp {
    static let key = "host-app-shared-secret-of-at-least-32-bytes"

    struct Claims: JWTPayload {
        var sub: SubjectClaim?
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var iss: IssuerClaim?
        var aud: AudienceClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func token(
        user: String? = TestHarness.owner, expiresIn: TimeInterval? = 600, notBefore: Date? = nil, issuer: String? = nil,
        audience: [String]? = nil, key: String = HostApp.key
    ) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: key), digestAlgorithm: .sha256)
        let claims = Claims(
            sub: user.map { SubjectClaim(value: $0) }, exp: expiresIn.map { ExpirationClaim(value: Date().addingTimeInterval($0)) },
            nbf: notBefore.map { NotBeforeClaim(value: $0) }, iss: issuer.map { IssuerClaim(value: $0) },
            aud: audience.map { AudienceClaim(value: $0) })
        return try await keys.sign(claims)
    }

    /// A token that claims no signature is needed (`alg: none`).
    static func unsignedToken(user: String) -> String {
        func part(_ json: String) -> String {
            Data(json.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        let exp = Int(Date().timeIntervalSince1970) + 600
        return part(#"{"alg":"none","typ":"JWT"}"#) + "." + part(#"{"sub":"\#(user)","exp":\#(exp)}"#) + "."
    }
}

@Suite("Session tokens signed by the host app")
struct SessionTokenTests {
    @Test("the verifier accepts a good token and refuses forged, expired, early, foreign and incomplete ones")
    func verifier() async throws {
        let verifier = try await SessionTokenVerifier(key: HostApp.key, issuer: "app", audience: "paliadin")
        let good = try await HostApp.token(issuer: "app", audience: ["paliadin", "other"])
        guard case .success(let session) = await verifier.verify(good) else { Issue.record("good token refused"); return }
        #expect(session.userID == TestHarness.owner)

        func refusal(_ token: String) async -> SessionTokenVerifier.Refusal? {
            if case .failure(let refusal) = await verifier.verify(token) { return refusal }
            return nil
        }
        #expect(await refusal(try await HostApp.token(issuer: "app", audience: ["paliadin"], key: HostApp.key + "x")) == .badSignature)
        #expect(await refusal(try await HostApp.token(expiresIn: -1, issuer: "app", audience: ["paliadin"])) == .expired)
        #expect(await refusal(try await HostApp.token(expiresIn: nil, issuer: "app", audience: ["paliadin"])) == .malformed, "no exp")
        #expect(await refusal(try await HostApp.token(user: nil, issuer: "app", audience: ["paliadin"])) == .malformed, "no sub")
        #expect(await refusal(try await HostApp.token(user: "  ", issuer: "app", audience: ["paliadin"])) == .noSubject)
        #expect(
            await refusal(try await HostApp.token(notBefore: Date().addingTimeInterval(300), issuer: "app", audience: ["paliadin"]))
                == .notYetValid)
        #expect(await refusal(try await HostApp.token(issuer: "elsewhere", audience: ["paliadin"])) == .wrongIssuer)
        #expect(await refusal(try await HostApp.token(issuer: "app", audience: ["other"])) == .wrongAudience)
        #expect(await refusal(HostApp.unsignedToken(user: TestHarness.owner)) != nil, "alg none")
        #expect(await refusal("not.a.token") == .malformed)
        #expect(await refusal("") == .malformed)

        await #expect(throws: SessionTokenVerifier.ShortKey.self) { try await SessionTokenVerifier(key: "short") }
    }

    @Test("expiry is checked against the verifier's clock")
    func injectedClock() async throws {
        let later = Date().addingTimeInterval(3600)
        let verifier = try await SessionTokenVerifier(key: HostApp.key, now: { later })
        let token = try await HostApp.token(expiresIn: 600)
        guard case .failure(.expired) = await verifier.verify(token) else { Issue.record("an hour later the token must be expired"); return }
    }

    @Test("a session token as bearer signs its user in; owners get through, others 404, bad tokens 401")
    func bearer() async throws {
        try await TestHarness.withLiveServer(configure: { $0.sessionKey = HostApp.key }) { _, client in
            let path = "/api/paliadin/history?session=x"
            let owner = try await client.request(.GET, path, token: try await HostApp.token())
            #expect(owner.status == 200)
            let stranger = try await client.request(.GET, path, token: try await HostApp.token(user: TestHarness.stranger))
            #expect(stranger.status == 404)
            let expired = try await client.request(.GET, path, token: try await HostApp.token(expiresIn: -5))
            #expect(expired.status == 401)
            let forged = try await client.request(.GET, path, token: try await HostApp.token(key: String(repeating: "k", count: 40)))
            #expect(forged.status == 401)
            let unsigned = try await client.request(.GET, path, token: HostApp.unsignedToken(user: TestHarness.owner))
            #expect(unsigned.status == 401)
        }
        // Without a configured key no session token is accepted.
        try await TestHarness.withLiveServer { _, client in
            let reply = try await client.request(.GET, "/api/paliadin/history?session=x", token: try await HostApp.token())
            #expect(reply.status == 401)
        }
    }

    @Test("browser sign-in: the token becomes an HttpOnly cookie, next stays on this server, POSTs need the Origin")
    func cookieSignIn() async throws {
        // A client that shows redirects instead of following them.
        let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            try await signInFlow(browser)
        } catch {
            try await browser.shutdown()
            throw error
        }
        try await browser.shutdown()
    }

    private func signInFlow(_ browser: HTTPClient) async throws {
        try await TestHarness.withLiveServer(configure: { $0.sessionKey = HostApp.key }) { _, client in
            func get(_ path: String, headers: [String: String] = [:]) async throws -> HTTPClientResponse {
                var request = HTTPClientRequest(url: client.base + path)
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                return try await browser.execute(request, timeout: .seconds(10))
            }
            let token = try await HostApp.token(expiresIn: 600)
            let signIn = try await get("/paliadin/session?token=\(token)&next=/paliadin%3Fembed%3D1")
            #expect(signIn.status == .seeOther)
            #expect(signIn.headers.first(name: "Location") == "/paliadin?embed=1")
            #expect(signIn.headers.first(name: "Cache-Control") == "no-store")
            let cookie = try #require(signIn.headers.first(name: "Set-Cookie"))
            #expect(cookie.hasPrefix("paliadin_session=\(token);"))
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] { #expect(cookie.contains(attribute), "\(attribute)") }
            let maxAge = cookie.split(separator: ";").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("Max-Age=") }
                .flatMap { Int($0.split(separator: "=")[1]) }
            #expect((590...600).contains(maxAge ?? 0), "the cookie ends with the token")
            #expect(!cookie.contains("Secure"), "plain HTTP on a loopback name")

            let cookieHeader = ["Cookie": "paliadin_session=\(token)"]
            let page = try await client.request(.GET, "/paliadin", headers: cookieHeader)
            #expect(page.status == 200)
            let body = #"{"user_message":"hi"}"#
            let noOrigin = try await client.request(.POST, "/api/paliadin/turn", body: body, headers: cookieHeader)
            #expect(noOrigin.status == 403, "a cookie-signed POST without Origin could come from anywhere")
            let foreign = try await client.request(
                .POST, "/api/paliadin/turn", body: body, headers: cookieHeader.merging(["Origin": "https://evil.example"]) { $1 })
            #expect(foreign.status == 403)
            let sameOrigin = try await client.request(
                .POST, "/api/paliadin/turn", body: body, headers: cookieHeader.merging(["Origin": client.base]) { $1 })
            #expect(sameOrigin.status == 200)

            // `next` never leads off this server.
            for next in ["//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "/ok\r\nSet-Cookie: evil=1"] {
                let escaped = next.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let reply = try await get("/paliadin/session?token=\(token)&next=\(escaped)")
                #expect(reply.headers.first(name: "Location") == "/paliadin", "\(next)")
            }
            let bad = try await get("/paliadin/session?token=\(try await HostApp.token(expiresIn: -1))")
            #expect(bad.status == .unauthorized)
            #expect(bad.headers.first(name: "Set-Cookie") == nil)
            let missing = try await get("/paliadin/session")
            #expect(missing.status == .badRequest)
            let stranger = try await get("/paliadin/session?token=\(try await HostApp.token(user: TestHarness.stranger))")
            #expect(stranger.status == .notFound)
            #expect(stranger.headers.first(name: "Set-Cookie") == nil)

            let expiredCookie = try await client.request(
                .GET, "/paliadin", headers: ["Cookie": "paliadin_session=\(try await HostApp.token(expiresIn: -1))"])
            #expect(expiredCookie.status == 401)

            let logout = try await client.request(.POST, "/api/paliadin/logout", headers: cookieHeader.merging(["Origin": client.base]) { $1 })
            #expect(logout.status == 204)
            #expect(logout.headers["set-cookie"]?.hasPrefix("paliadin_session=;") == true)
            #expect(logout.headers["set-cookie"]?.contains("Max-Age=0") == true)
        }
    }

    @Test("a session cookie is ignored when no key is configured: dev mode still works")
    func cookieWithoutKey() async throws {
        try await TestHarness.withLiveServer(configure: { $0.devUser = "dev@localhost" }) { _, client in
            let reply = try await client.request(.GET, "/api/paliadin/history?session=x", headers: ["Cookie": "paliadin_session=whatever"])
            #expect(reply.status == 200)
            let signIn = try await client.request(.GET, "/paliadin/session?token=x")
            #expect(signIn.status == 404, "the sign-in route exists only with a key")
        }
    }
}
