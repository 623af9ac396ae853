import PaliadinServer
import Testing

@Suite("CORS for the configured origins")
struct CORSTests {
    static let tools = "https://tools.example"

    @Test("a listed origin gets its preflight answered and may call the API with a bearer token; errors are readable too")
    func listedOrigin() async throws {
        try await TestHarness.withLiveServer(configure: {
            $0.corsOrigins = [Self.tools]
            $0.sessionKey = HostApp.key
        }) { harness, client in
            let preflight = try await client.request(
                .OPTIONS, "/api/paliadin/turn",
                headers: ["Origin": Self.tools, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"])
            #expect(preflight.status == 204)
            #expect(preflight.headers["access-control-allow-origin"] == Self.tools)
            #expect(preflight.headers["access-control-allow-headers"]?.contains("Authorization") == true)
            #expect(preflight.headers["access-control-allow-methods"] == "GET, POST")
            #expect(preflight.headers["access-control-allow-credentials"] == nil, "cookies never travel cross-origin")

            let body = #"{"user_message":"hi"}"#
            let started = try await client.request(.POST, "/api/paliadin/turn", token: harness.ownerToken, body: body, headers: ["Origin": Self.tools])
            #expect(started.status == 200)
            #expect(started.headers["access-control-allow-origin"] == Self.tools)
            #expect(started.headers["access-control-expose-headers"]?.contains("Retry-After") == true)
            #expect(started.headers["vary"]?.contains("Origin") == true)

            let anonymous = try await client.request(.GET, "/api/paliadin/history?session=x", headers: ["Origin": Self.tools])
            #expect(anonymous.status == 401)
            #expect(anonymous.headers["access-control-allow-origin"] == Self.tools, "the caller can read why it failed")

            // A browser's cookie is no credential for another origin, listed or not.
            let token = try await HostApp.token()
            let byCookie = try await client.request(
                .POST, "/api/paliadin/turn", body: body, headers: ["Origin": Self.tools, "Cookie": "paliadin_session=\(token)"])
            #expect(byCookie.status == 403)
            let sessionBearer = try await client.request(.POST, "/api/paliadin/turn", token: token, body: body, headers: ["Origin": Self.tools])
            #expect(sessionBearer.status == 200)
        }
    }

    @Test("an origin that is not listed gets no CORS headers and cannot change anything")
    func unlistedOrigin() async throws {
        try await TestHarness.withLiveServer(configure: { $0.corsOrigins = [Self.tools] }) { harness, client in
            let preflight = try await client.request(
                .OPTIONS, "/api/paliadin/turn", headers: ["Origin": "https://evil.example", "Access-Control-Request-Method": "POST"])
            #expect(preflight.headers["access-control-allow-origin"] == nil)
            let refused = try await client.request(
                .POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"hi"}"#, headers: ["Origin": "https://evil.example"])
            #expect(refused.status == 403)
            #expect(refused.headers["access-control-allow-origin"] == nil)
        }
        try await TestHarness.withLiveServer { harness, client in
            let refused = try await client.request(
                .POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"hi"}"#, headers: ["Origin": Self.tools])
            #expect(refused.status == 403, "no CORS origins configured: no other origin may change anything")
        }
    }
}
