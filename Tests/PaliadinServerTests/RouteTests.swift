import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import PaliadinServer
import PaliadinCore
import PaliadinEngine
import PaliadinStore
import PaliadinTestSupport
import Testing

@Suite("Routes: status codes, JSON shapes, auth, bad input")
struct RouteTests {
    static let apiRoutes: [(String, String)] = [
        ("POST", "/api/paliadin/turn"),
        ("GET", "/api/paliadin/stream/\(TurnID())"),
        ("GET", "/api/paliadin/turn/\(TurnID())"),
        ("GET", "/api/paliadin/turn/\(TurnID())/recover"),
        ("POST", "/api/paliadin/turn/\(TurnID())/cancel"),
        ("GET", "/api/paliadin/history?session=s1"),
        ("POST", "/api/paliadin/reset"),
        ("GET", "/api/admin/paliadin/stats"),
        ("GET", "/api/admin/paliadin/turns"),
        ("GET", "/paliadin"),
        ("GET", "/admin/paliadin"),
    ]

    @Test("anonymous requests get 401, authenticated non-owners 404 on every route; assets are public")
    func ownerGate() async throws {
        try await TestHarness.withLiveServer { harness, client in
            for (method, path) in Self.apiRoutes {
                let anonymous = try await client.request(.init(rawValue: method), path, body: method == "POST" ? "{}" : nil)
                #expect(anonymous.status == 401, "\(method) \(path)")
                #expect(anonymous.object["error"] as? String == "authentication required")
                let stranger = try await client.request(
                    .init(rawValue: method), path, token: harness.strangerToken, body: method == "POST" ? "{}" : nil)
                #expect(stranger.status == 404, "\(method) \(path)")
                let forged = try await client.request(.init(rawValue: method), path, token: "pal_not-a-token")
                #expect(forged.status == 401, "\(method) \(path)")
            }
            let widget = try await client.request(.GET, "/paliadin/widget.js")
            #expect(widget.status == 200)
            #expect(widget.headers["content-type"]?.hasPrefix("text/javascript") == true)
            let script = try await client.request(.GET, "/paliadin/assets/chat.js")
            #expect(script.status == 200)
            let missing = try await client.request(.GET, "/paliadin/assets/nope.js")
            #expect(missing.status == 404)
            let page = try await client.request(.GET, "/paliadin/assets/chat.html")
            #expect(page.status == 404, "pages are not served as open assets")
        }
    }

    @Test("pages and assets are revalidated by ETag: a 304 while unchanged, so a new release shows at once")
    func caching() async throws {
        try await TestHarness.withLiveServer { harness, client in
            for (path, token) in [("/paliadin/widget.js", nil), ("/paliadin/assets/markdown.js", nil), ("/paliadin", harness.ownerToken)] {
                let first = try await client.request(.GET, path, token: token)
                #expect(first.status == 200, "\(path)")
                #expect(first.headers["cache-control"] == "no-cache", "\(path)")
                let etag = try #require(first.headers["etag"], "\(path)")
                #expect(etag.hasPrefix("\"") && etag.count == 26, "\(path): \(etag)")
                let again = try await client.request(.GET, path, token: token, headers: ["If-None-Match": "\"other\", \(etag)"])
                #expect(again.status == 304, "\(path)")
                #expect(again.body.isEmpty && again.headers["etag"] == etag, "\(path)")
                let stale = try await client.request(.GET, path, token: token, headers: ["If-None-Match": "\"0000\""])
                #expect(stale.status == 200 && stale.body == first.body, "\(path)")
            }
            let anonymous = try await client.request(.GET, "/paliadin", headers: ["If-None-Match": "*"])
            #expect(anonymous.status == 401, "the owner gate comes before the cache")
        }
    }

    @Test("owners get the pages with a strict CSP")
    func pages() async throws {
        try await TestHarness.withLiveServer { harness, client in
            for path in ["/paliadin", "/admin/paliadin"] {
                let reply = try await client.request(.GET, path, token: harness.ownerToken)
                #expect(reply.status == 200)
                #expect(reply.headers["content-type"]?.hasPrefix("text/html") == true)
                #expect(reply.headers["content-security-policy"]?.contains("script-src 'self'") == true)
                #expect(reply.body.contains("<html"))
            }
        }
    }

    @Test("the chat page may be framed by Paliadin and the configured embed origins, the dashboard by no one")
    func frameAncestors() async throws {
        try await TestHarness.withLiveServer(configure: { $0.embedOrigins = ["https://app.example.com", "http://127.0.0.1:9000"] }) {
            harness, client in
            let chat = try await client.request(.GET, "/paliadin", token: harness.ownerToken)
            #expect(chat.headers["content-security-policy"]?.contains("frame-ancestors 'self' https://app.example.com http://127.0.0.1:9000") == true)
            let admin = try await client.request(.GET, "/admin/paliadin", token: harness.ownerToken)
            #expect(admin.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)
        }
        try await TestHarness.withLiveServer { harness, client in
            let chat = try await client.request(.GET, "/paliadin", token: harness.ownerToken)
            #expect(chat.headers["content-security-policy"]?.hasSuffix("frame-ancestors 'self'") == true, "by default only Paliadin itself")
        }
    }

    @Test("dev mode lets loopback requests without credentials in as the dev user, who is an owner")
    func devMode() async throws {
        try await TestHarness.withLiveServer(configure: { $0.devUser = "dev@localhost" }) { harness, client in
            let reply = try await client.request(.GET, "/api/paliadin/history?session=x")
            #expect(reply.status == 200)
            #expect(reply.body == "[]")
            // A bad token is not rescued by dev mode.
            let forged = try await client.request(.GET, "/api/paliadin/history?session=x", token: "pal_wrong")
            #expect(forged.status == 401)
            // A request a local reverse proxy passed on is not "this machine's user".
            for header in ["X-Forwarded-For", "Forwarded", "X-Real-IP"] {
                let proxied = try await client.request(.GET, "/api/paliadin/history?session=x", headers: [header: "203.0.113.9"])
                #expect(proxied.status == 401, "\(header)")
            }
            // A page on another site that points its own name at 127.0.0.1 (DNS rebinding) is not let in.
            let rebound = try await client.request(.GET, "/api/paliadin/history?session=x", headers: ["Host": "rebind.evil.example"])
            #expect(rebound.status == 401)
            let named = try await client.request(.GET, "/api/paliadin/history?session=x", headers: ["Host": "localhost:8080"])
            #expect(named.status == 200)
        }
    }

    @Test("a browser request from another site cannot start, cancel or reset anything; reading stays as it was")
    func crossSite() async throws {
        try await TestHarness.withLiveServer(configure: { $0.devUser = "dev@localhost" }) { harness, client in
            let body = #"{"user_message":"hi"}"#
            for headers in [["Origin": "https://evil.example"], ["Sec-Fetch-Site": "cross-site"], ["Origin": "null"]] {
                let refused = try await client.request(.POST, "/api/paliadin/turn", body: body, headers: headers)
                #expect(refused.status == 403, "\(headers)")
                #expect(refused.object["error"] as? String == "cross-site request refused")
                let reset = try await client.request(.POST, "/api/paliadin/reset", body: "{}", headers: headers)
                #expect(reset.status == 403, "\(headers)")
            }
            #expect(try await harness.store.recentTurns(limit: 5).isEmpty, "nothing was written")
            let own = try await client.request(
                .POST, "/api/paliadin/turn", body: body, headers: ["Origin": client.base, "Sec-Fetch-Site": "same-origin"])
            #expect(own.status == 200, "the chat page's own requests pass")
            let plain = try await client.request(.POST, "/api/paliadin/turn", body: body)
            #expect(plain.status == 200, "clients that are not browsers send no Origin")
            let read = try await client.request(.GET, "/api/paliadin/history?session=x", headers: ["Sec-Fetch-Site": "cross-site"])
            #expect(read.status == 200)
        }
    }

    @Test("a second server on the same database file is refused with a clear error")
    func oneServerPerDatabase() async throws {
        try await TestHarness.withLiveServer { harness, client in
            await #expect(throws: InstanceLock.Held.self) {
                _ = try await buildApplication(harness.configuration, logger: Logger(label: "second"))
            }
        }
    }

    @Test("with PALIADIN_ENABLED false no route exists")
    func disabled() async throws {
        try await TestHarness.withLiveServer(configure: { $0.enabled = false }) { harness, client in
            for (method, path) in Self.apiRoutes + [("GET", "/paliadin/widget.js")] {
                let reply = try await client.request(.init(rawValue: method), path, token: harness.ownerToken)
                #expect(reply.status == 404, "\(method) \(path)")
            }
        }
    }

    @Test("bad input gets a clear JSON error and writes nothing")
    func badInput() async throws {
        try await TestHarness.withLiveServer(configure: { $0.maxBodyBytes = 1024 }) { harness, client in
            let token = harness.ownerToken
            func post(_ body: String) async throws -> LiveClient.Reply {
                try await client.request(.POST, "/api/paliadin/turn", token: token, body: body)
            }
            var reply = try await post("{not json")
            #expect(reply.status == 400)
            #expect(reply.body == #"{"error":"invalid JSON"}"#)
            reply = try await post("[1,2]")
            #expect(reply.status == 400)
            #expect(reply.body == #"{"error":"invalid JSON"}"#)
            reply = try await post(#"{"user_message": 7}"#)
            #expect(reply.body == #"{"error":"invalid JSON"}"#)
            reply = try await post(#"{"session_id":"x"}"#)
            #expect(reply.status == 400)
            #expect(reply.body == #"{"error":"user_message required"}"#)
            reply = try await post(#"{"user_message":"   \n "}"#)
            #expect(reply.body == #"{"error":"user_message required"}"#)
            reply = try await post(#"{"user_message":"\#(String(repeating: "x", count: 2000))"}"#)
            #expect(reply.status == 413)
            #expect((reply.object["error"] as? String)?.contains("larger than 1024 bytes") == true)
            let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
            reply = try await post(#"{"user_message":"hi","context":\#(deep)}"#)
            #expect(reply.status == 400)
            reply = try await post(#"{"user_message":"hi","session_id":"\#(String(repeating: "s", count: 300))"}"#)
            #expect(reply.status == 400)

            for path in ["/api/paliadin/turn/nope", "/api/paliadin/turn/nope/recover", "/api/paliadin/stream/12"] {
                reply = try await client.request(.GET, path, token: token)
                #expect(reply.status == 400, "\(path)")
                #expect(reply.body == #"{"error":"invalid turn_id"}"#)
            }
            reply = try await client.request(.POST, "/api/paliadin/turn/x-y/cancel", token: token)
            #expect(reply.status == 400)
            for path in ["/api/paliadin/turn/\(TurnID())", "/api/paliadin/stream/\(TurnID())"] {
                reply = try await client.request(.GET, path, token: token)
                #expect(reply.status == 404, "\(path)")
            }
            for field in ["user_message", "session_id", "page_origin", "backend"] {
                var values = ["user_message": "hi"]
                values[field] = #"a\u0000b"#
                let fields = values.map { #""\#($0)":"\#($1)""# }.joined(separator: ",")
                reply = try await post("{\(fields)}")
                #expect(reply.status == 400, "\(field)")
                #expect(reply.body == #"{"error":"\#(field) must not contain NUL characters"}"#)
            }
            // Bytes that are not UTF-8 are not JSON.
            var invalid = HTTPClientRequest(url: client.base + "/api/paliadin/turn")
            invalid.method = .POST
            invalid.headers.add(name: "Authorization", value: "Bearer \(token)")
            invalid.headers.add(name: "Content-Type", value: "application/json")
            invalid.body = .bytes(ByteBuffer(bytes: Array(#"{"user_message":"caf"#.utf8) + [0xC3, 0x28, 0xFF] + Array(#""}"#.utf8)))
            let invalidReply = try await HTTPClient.shared.execute(invalid, timeout: .seconds(10))
            #expect(invalidReply.status == .badRequest)
            #expect(String(buffer: try await invalidReply.body.collect(upTo: 1024)) == #"{"error":"invalid JSON"}"#)

            let stored = try await harness.store.recentTurns(limit: 10)
            #expect(stored.isEmpty, "nothing is written for a rejected request")

            // Text that looks like SQL is only text: kept as sent, the tables intact.
            let injection = "x'); DROP TABLE turns; --"
            let injected = try await client.startTurn(injection, session: "s'; DELETE FROM turns; --")
            let row = try await client.waitUntilFinished(injected)
            #expect(row["session_id"] as? String == "s'; DELETE FROM turns; --")
            #expect(try await harness.store.recentTurns(limit: 10).count == 1)
            #expect(try await harness.store.turn(TurnID(injected)!)?.userMessage == injection)

            let turnID = try await client.startTurn("hi")
            reply = try await client.request(.GET, "/api/paliadin/stream/\(turnID)", token: token, headers: ["Last-Event-ID": "abc"])
            #expect(reply.status == 400)
            reply = try await client.request(.GET, "/api/paliadin/stream/\(turnID)?after=-3", token: token)
            #expect(reply.status == 400)
        }
    }

    @Test("another owner's turn is 404 everywhere")
    func otherUsersTurn() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("hi")
            _ = try await client.waitUntilFinished(turnID)
            for (method, path) in [
                ("GET", "/api/paliadin/turn/\(turnID)"), ("GET", "/api/paliadin/turn/\(turnID)/recover"),
                ("GET", "/api/paliadin/stream/\(turnID)"), ("POST", "/api/paliadin/turn/\(turnID)/cancel"),
            ] {
                let reply = try await client.request(.init(rawValue: method), path, token: harness.otherOwnerToken)
                #expect(reply.status == 404, "\(method) \(path)")
            }
            let history = try await client.request(.GET, "/api/paliadin/history?session=s1", token: harness.otherOwnerToken)
            #expect(history.body == "[]")
        }
    }

    @Test("start turn answers turn_id and sse_url; an empty session id gets a fresh UUID; the row has the contract's fields")
    func startAndGet() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let reply = try await client.request(
                .POST, "/api/paliadin/turn", token: harness.ownerToken,
                body: #"{"user_message":"hi","session_id":"","context":{"page_origin":"/orders/7","title":"Order 7"}}"#)
            #expect(reply.status == 200)
            let turnID = try #require(reply.object["turn_id"] as? String)
            #expect(reply.object["sse_url"] as? String == "/api/paliadin/stream/\(turnID)")
            let row = try await client.waitUntilFinished(turnID)
            for field in [
                "turn_id", "started_at", "response", "error_code", "finished_at", "duration_ms", "used_tools", "rows_seen",
                "chip_count", "classifier_tag",
            ] {
                #expect(row.keys.contains(field), "\(field)")
            }
            let session = try #require(row["session_id"] as? String)
            #expect(UUID(uuidString: session) != nil)
            #expect(row["page_origin"] as? String == "/orders/7", "page_origin falls back to the context's")
            #expect((row["context"] as? [String: Any])?["title"] as? String == "Order 7")
        }
    }

    @Test("history: oldest first, default 50, capped at 200, bad limit means default, no session means []")
    func historyCap() async throws {
        try await TestHarness.withLiveServer(prepare: { store in
            let start = Date().addingTimeInterval(-10_000)
            for index in 0..<205 {
                try await store.insertTurn(
                    TurnRecord(
                        id: TurnID(), userID: TestHarness.owner, sessionID: "long", pageOrigin: nil, contextJSON: nil,
                        userMessage: "q\(index)", startedAt: start.addingTimeInterval(Double(index)), backend: "openai", model: "m"))
            }
        }) { harness, client in
            func history(_ query: String) async throws -> [[String: Any]] {
                try await client.request(.GET, "/api/paliadin/history?\(query)", token: harness.ownerToken).array
            }
            let capped = try await history("session=long&limit=500")
            #expect(capped.count == 200)
            #expect(capped.first?["user_message"] as? String == "q5")
            #expect(capped.last?["user_message"] as? String == "q204")
            #expect(try await history("session=long").count == 50)
            #expect(try await history("session=long&limit=abc").count == 50)
            #expect(try await history("session=long&limit=-4").count == 50)
            let three = try await history("session=long&limit=3")
            #expect(three.map { $0["user_message"] as? String } == ["q202", "q203", "q204"])
            #expect(try await history("limit=3").isEmpty)
            #expect(try await history("session=other").isEmpty)
        }
    }

    @Test("recover: recovered, pending, lost (ended without answer, or pending past the give-up age)")
    func recoverStates() async throws {
        let fresh = TurnID()
        let old = TurnID()
        let failed = TurnID()
        try await TestHarness.withLiveServer(
            upstream: MockOpenAIUpstream(),
            configure: { $0.recoveryGiveUp = .seconds(60) },
            prepare: { store in
                func insert(_ id: TurnID, age: TimeInterval) async throws {
                    try await store.insertTurn(
                        TurnRecord(
                            id: id, userID: TestHarness.owner, sessionID: "r", pageOrigin: nil, contextJSON: nil,
                            userMessage: "q", startedAt: Date().addingTimeInterval(-age), backend: "openai", model: "m"))
                }
                try await insert(failed, age: 5)
                _ = try await store.finishTurn(
                    failed,
                    outcome: TurnOutcome(status: .failed, response: "", errorCode: "upstream_error", finishedAt: Date(), durationMS: 10),
                    lastEvent: TurnEvent(turnID: failed, seq: 1, kind: .error, data: "{}"))
            }
        ) { harness, client in
            func state(_ id: String) async throws -> String? {
                try await client.request(.GET, "/api/paliadin/turn/\(id)/recover", token: harness.ownerToken).object["recovery_state"] as? String
            }
            let done = try await client.startTurn("hi")
            _ = try await client.waitUntilFinished(done)
            #expect(try await state(done) == "recovered")
            #expect(try await state(failed.description) == "lost")
            // Running turns (inserted after start-up, as another process would): pending while young, lost when old.
            for (id, age) in [(fresh, 5.0), (old, 120.0)] {
                try await harness.store.insertTurn(
                    TurnRecord(
                        id: id, userID: TestHarness.owner, sessionID: "r", pageOrigin: nil, contextJSON: nil, userMessage: "q",
                        startedAt: Date().addingTimeInterval(-age), backend: "openai", model: "m"))
            }
            #expect(try await state(fresh.description) == "pending")
            #expect(try await state(old.description) == "lost")
            let row = try await client.request(.GET, "/api/paliadin/turn/\(done)/recover", token: harness.ownerToken).object
            #expect(row["response"] as? String == MockOpenAIUpstream.defaultAnswer)
        }
    }

    @Test("earlier exchanges of the session go to the backend; reset starts a fresh conversation")
    func conversationAndReset() async throws {
        let upstream = MockOpenAIUpstream()
        try await TestHarness.withLiveServer(upstream: upstream) { harness, client in
            let first = try await client.startTurn("first question", session: "conv")
            _ = try await client.waitUntilFinished(first)
            let second = try await client.startTurn("second question", session: "conv")
            _ = try await client.waitUntilFinished(second)
            let sent = try #require(upstream.requests.last)
            #expect(sent.stream == true)
            #expect(sent.messages.map(\.role) == ["system", "user", "assistant", "user"])
            #expect(sent.messages[1].content == "first question")
            #expect(sent.messages[2].content == MockOpenAIUpstream.defaultAnswer)

            let reset = try await client.request(.POST, "/api/paliadin/reset", token: harness.ownerToken)
            #expect(reset.status == 200)
            #expect(reset.body == #"{"ok":true}"#)
            try await Task.sleep(for: .milliseconds(5))  // the reset time is stored in whole milliseconds
            let third = try await client.startTurn("third question", session: "conv")
            _ = try await client.waitUntilFinished(third)
            #expect(upstream.requests.last?.messages.map(\.role) == ["system", "user"])
        }
    }

    @Test("admin stats and recent turns")
    func admin() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let good = try await client.startTurn("hi")
            let bad = try await client.startTurn("mock:status=500")
            _ = try await client.waitUntilFinished(good)
            _ = try await client.waitUntilFinished(bad)
            let stats = try await client.request(.GET, "/api/admin/paliadin/stats", token: harness.ownerToken).object
            #expect(stats["turns_total"] as? Int == 2)
            #expect(stats["errors_total"] as? Int == 1)
            #expect((stats["errors_by_code"] as? [String: Int]) == ["upstream_error": 1])
            #expect((stats["duration_ms"] as? [String: Any])?["p50"] is Int)
            #expect((stats["by_backend"] as? [[String: Any]])?.first?["backend"] as? String == "openai")
            #expect((stats["by_day"] as? [[String: Any]])?.count == 1)
            let turns = try await client.request(.GET, "/api/admin/paliadin/turns", token: harness.ownerToken).array
            #expect(turns.map { $0["turn_id"] as? String } == [bad, good])
        }
    }
}

@Suite("Per-user limits over HTTP")
struct UserLimitRouteTests {
    @Test("over the rate: 429 with Retry-After and a clear message; over the running turns: 429; another user goes on")
    func tooMany() async throws {
        try await TestHarness.withLiveServer(configure: {
            $0.engine.userLimits = UserTurnLimits(turnsPerMinute: 2, concurrentTurns: nil)
        }) { harness, client in
            let body = #"{"user_message":"mock:chunks=1"}"#
            for _ in 0..<2 { #expect(try await client.request(.POST, "/api/paliadin/turn", token: harness.ownerToken, body: body).status == 200) }
            let refused = try await client.request(.POST, "/api/paliadin/turn", token: harness.ownerToken, body: body)
            #expect(refused.status == 429)
            // 30 s for the next place (29 when the requests above took over a second).
            #expect(["29", "30"].contains(refused.headers["retry-after"] ?? ""), "\(refused.headers["retry-after"] ?? "none")")
            #expect((refused.object["error"] as? String)?.contains("at most 2 a minute") == true)
            let other = try await client.request(.POST, "/api/paliadin/turn", token: harness.otherOwnerToken, body: body)
            #expect(other.status == 200)
        }
        try await TestHarness.withLiveServer(configure: {
            $0.engine.userLimits = UserTurnLimits(turnsPerMinute: nil, concurrentTurns: 1)
            $0.engine.shutdownGrace = .milliseconds(200)
        }) { harness, client in
            _ = try await client.startTurn("mock:silent")
            let refused = try await client.request(.POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"hi"}"#)
            #expect(refused.status == 429)
            #expect(refused.headers["retry-after"] == "2")
            #expect((refused.object["error"] as? String)?.contains("at most 1 at once") == true)
        }
    }
}
