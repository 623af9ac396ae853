import Foundation
import PaliadinCore
import PaliadinServer
import PaliadinStore
import PaliadinTestSupport
import Testing

@Suite("Admin routes: stats, recent turns, one turn in full")
struct AdminRouteTests {
    /// A closed turn with known timings, as another process would have written it.
    static func insertFinished(
        _ store: SQLiteTurnStore, startedAt: Date, durationMS: Int, ttftMS: Int?, status: TurnStatus = .completed,
        errorCode: String? = nil
    ) async throws -> TurnID {
        let id = TurnID()
        try await store.insertTurn(
            TurnRecord(
                id: id, userID: TestHarness.owner, sessionID: "stats", pageOrigin: nil, contextJSON: nil, userMessage: "q",
                startedAt: startedAt, backend: "openai", model: "m"))
        let outcome = TurnOutcome(
            status: status, response: status == .completed ? "a" : "", errorCode: errorCode,
            finishedAt: startedAt.addingTimeInterval(Double(durationMS) / 1000), durationMS: durationMS, ttftMS: ttftMS)
        _ = try await store.finishTurn(id, outcome: outcome, lastEvent: TurnEvent(turnID: id, seq: 1, kind: .end, data: "{}"))
        return id
    }

    @Test("detail: a finished turn's full row and its whole event log, in order")
    func detailOfFinishedTurn() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let reply = try await client.request(
                .POST, "/api/paliadin/turn", token: harness.ownerToken,
                body: #"{"user_message":"mock:chunks=5 delay=1ms","session_id":"s9","page_origin":"/orders/7","context":{"title":"Order 7"}}"#)
            let turnID = try #require(reply.object["turn_id"] as? String)
            _ = try await client.waitUntilFinished(turnID)
            let streamed = try await client.stream(turnID).events.withoutPings

            let detail = try await client.request(.GET, "/api/admin/paliadin/turns/\(turnID)", token: harness.ownerToken)
            #expect(detail.status == 200)
            #expect(detail.headers["content-type"]?.hasPrefix("application/json") == true)
            let row = detail.object
            for field in [
                "turn_id", "user_id", "session_id", "page_origin", "context", "user_message", "status", "response", "error_code",
                "error_message", "started_at", "first_token_at", "finished_at", "duration_ms", "ttft_ms", "backend", "model",
                "tokens_in", "tokens_out", "used_tools", "rows_seen", "chip_count", "classifier_tag", "conversation_id",
                "reader_connects", "reader_resumes", "streamed", "events", "events_truncated",
            ] {
                #expect(row.keys.contains(field), "\(field)")
            }
            #expect(row["turn_id"] as? String == turnID)
            #expect(row["user_id"] as? String == TestHarness.owner)
            #expect(row["session_id"] as? String == "s9")
            #expect(row["page_origin"] as? String == "/orders/7")
            #expect((row["context"] as? [String: Any])?["title"] as? String == "Order 7")
            #expect(row["user_message"] as? String == "mock:chunks=5 delay=1ms")
            #expect(row["status"] as? String == "completed")
            #expect(row["response"] as? String == MockOpenAIUpstream.chunkedAnswer(5))
            #expect(row["reader_connects"] is Int)
            #expect(row["events_truncated"] as? Bool == false)

            let events = try #require(row["events"] as? [[String: Any]])
            #expect(events.map { $0["seq"] as? Int } == Array(1...events.count).map { Optional($0) }, "every event, in order")
            #expect(events.map { $0["event"] as? String } == streamed.map(\.name))
            #expect(events.map { $0["seq"] as? Int } == streamed.map(\.id))
            #expect(events.first?["event"] as? String == "meta")
            #expect((events.first?["data"] as? [String: Any])?["turn_id"] as? String == turnID, "data is the payload as JSON")
            #expect(events.last?["event"] as? String == "end")
            let text = events.filter { $0["event"] as? String == "content" }
                .compactMap { ($0["data"] as? [String: Any])?["delta"] as? String }.joined()
            #expect(text == MockOpenAIUpstream.chunkedAnswer(5))
        }
    }

    @Test("detail: a failed turn carries its error; any owner may read any turn")
    func detailOfFailedTurn() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("mock:status=500")
            _ = try await client.waitUntilFinished(turnID)
            let detail = try await client.request(.GET, "/api/admin/paliadin/turns/\(turnID)", token: harness.otherOwnerToken)
            #expect(detail.status == 200)
            #expect(detail.object["status"] as? String == "failed")
            #expect(detail.object["error_code"] as? String == "upstream_error")
            let events = try #require(detail.object["events"] as? [[String: Any]])
            #expect(events.last?["event"] as? String == "error")
            #expect((events.last?["data"] as? [String: Any])?["code"] as? String == "upstream_error")
        }
    }

    @Test("detail: a long log is read page by page, whole and in order")
    func detailOfLongLog() async throws {
        let id = TurnID()
        let count = 1_234
        try await TestHarness.withLiveServer(prepare: { store in
            try await store.insertTurn(
                TurnRecord(
                    id: id, userID: TestHarness.otherOwner, sessionID: "long", pageOrigin: nil, contextJSON: nil, userMessage: "q",
                    startedAt: Date(), backend: "openai", model: "m"))
            try await store.appendEvents(
                (1..<count).map { TurnEvent(turnID: id, seq: $0, kind: .content, data: PayloadCoding.encode(ContentPayload.delta("t\($0) "))) })
            _ = try await store.finishTurn(
                id, outcome: TurnOutcome(status: .completed, response: "r", finishedAt: Date(), durationMS: 5),
                lastEvent: TurnEvent(turnID: id, seq: count, kind: .end, data: "{}"))
        }) { harness, client in
            let detail = try await client.request(.GET, "/api/admin/paliadin/turns/\(id)", token: harness.ownerToken)
            #expect(detail.status == 200)
            let events = try #require(detail.object["events"] as? [[String: Any]])
            #expect(events.count == count)
            #expect(events.map { $0["seq"] as? Int } == Array(1...count).map { Optional($0) })
            #expect((events[599]["data"] as? [String: Any])?["delta"] as? String == "t600 ")
            #expect(events.last?["event"] as? String == "end")
            #expect(detail.object["events_truncated"] as? Bool == false)
        }
    }

    @Test("detail: 400 for a malformed id, 404 for an unknown one, 404 to a non-owner, 401 anonymous")
    func detailErrors() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("hi")
            _ = try await client.waitUntilFinished(turnID)
            for bad in ["nope", "12", "\(turnID)x"] {
                let reply = try await client.request(.GET, "/api/admin/paliadin/turns/\(bad)", token: harness.ownerToken)
                #expect(reply.status == 400, "\(bad)")
                #expect(reply.body == #"{"error":"invalid turn_id"}"#)
            }
            let unknown = try await client.request(.GET, "/api/admin/paliadin/turns/\(TurnID())", token: harness.ownerToken)
            #expect(unknown.status == 404)
            #expect(unknown.body == #"{"error":"not found"}"#)
            let stranger = try await client.request(.GET, "/api/admin/paliadin/turns/\(turnID)", token: harness.strangerToken)
            #expect(stranger.status == 404)
            #expect(stranger.body.contains(turnID) == false)
            let anonymous = try await client.request(.GET, "/api/admin/paliadin/turns/\(turnID)")
            #expect(anonymous.status == 401)
            #expect(anonymous.object["error"] as? String == "authentication required")
        }
    }

    @Test("stats: per-day duration and TTFT percentiles from known data; every older field is still there")
    func statsPerDay() async throws {
        // Anchored on the current UTC day, so the test holds at any time of day (even a
        // second after midnight): yesterday's turns start at 23:00, today's not before 00:00.
        let now = Date()
        let todayStart = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
        let yesterday = todayStart.addingTimeInterval(-3600)
        let today = max(now.addingTimeInterval(-1), todayStart)
        try await TestHarness.withLiveServer(prepare: { store in
            // Yesterday: durations 100...2000 (20 turns), TTFT 10...200; one failed.
            for index in 1...20 {
                _ = try await Self.insertFinished(
                    store, startedAt: yesterday.addingTimeInterval(Double(index)), durationMS: index * 100, ttftMS: index * 10,
                    status: index == 20 ? .failed : .completed, errorCode: index == 20 ? "upstream_timeout" : nil)
            }
            // Today: three turns, one without a first token.
            for (duration, ttft) in [(300, 30), (100, 10), (200, nil)] {
                _ = try await Self.insertFinished(store, startedAt: today, durationMS: duration, ttftMS: ttft)
            }
        }) { harness, client in
            let reply = try await client.request(.GET, "/api/admin/paliadin/stats", token: harness.ownerToken)
            #expect(reply.status == 200)
            let stats = reply.object
            for field in [
                "turns_total", "turns_today", "turns_7d", "running", "errors_total", "error_rate", "errors_by_code", "duration_ms",
                "ttft_ms", "by_backend", "by_day", "generated_at",
            ] {
                #expect(stats.keys.contains(field), "\(field)")
            }
            #expect(stats["turns_total"] as? Int == 23)
            #expect(stats["errors_total"] as? Int == 1)
            #expect((stats["errors_by_code"] as? [String: Int]) == ["upstream_timeout": 1])
            let generatedAt = try #require(stats["generated_at"] as? String)
            #expect(TimestampFormat.date(from: generatedAt) != nil)
            for key in ["p50", "p95", "p99"] {
                #expect((stats["duration_ms"] as? [String: Any])?[key] is Int, "duration \(key)")
                #expect((stats["ttft_ms"] as? [String: Any])?[key] is Int, "ttft \(key)")
            }
            let backend = try #require((stats["by_backend"] as? [[String: Any]])?.first)
            for field in ["backend", "model", "turns", "errors", "duration_p50_ms", "ttft_p50_ms"] {
                #expect(backend.keys.contains(field), "by_backend \(field)")
            }

            let days = try #require(stats["by_day"] as? [[String: Any]])
            #expect(days.map { $0["day"] as? String } == [TimestampFormat.day(of: yesterday), TimestampFormat.day(of: now)])
            let first = days[0]
            #expect(first["turns"] as? Int == 20)
            #expect(first["errors"] as? Int == 1)
            #expect(first["duration_p50_ms"] as? Int == 1_000)
            #expect(first["duration_p95_ms"] as? Int == 1_900)
            #expect(first["ttft_p50_ms"] as? Int == 100)
            #expect(first["ttft_p95_ms"] as? Int == 190)
            let second = days[1]
            #expect(second["turns"] as? Int == 3)
            #expect(second["errors"] as? Int == 0)
            #expect(second["duration_p50_ms"] as? Int == 200)
            #expect(second["duration_p95_ms"] as? Int == 300)
            #expect(second["ttft_p50_ms"] as? Int == 10)
            #expect(second["ttft_p95_ms"] as? Int == 30)
        }
    }

    @Test("stats: a day without timings has null percentiles, not missing keys")
    func statsNullPercentiles() async throws {
        try await TestHarness.withLiveServer { harness, client in
            // Inserted after start-up (as another process would): still running, so no timings yet.
            try await harness.store.insertTurn(
                TurnRecord(
                    id: TurnID(), userID: TestHarness.owner, sessionID: "r", pageOrigin: nil, contextJSON: nil, userMessage: "q",
                    startedAt: Date(), backend: "openai", model: "m"))
            let reply = try await client.request(.GET, "/api/admin/paliadin/stats", token: harness.ownerToken)
            let stats = reply.object
            #expect(stats["running"] as? Int == 1)
            let day = try #require((stats["by_day"] as? [[String: Any]])?.first)
            for field in ["duration_p50_ms", "duration_p95_ms", "ttft_p50_ms", "ttft_p95_ms"] {
                #expect(day[field] is NSNull, "\(field)")
            }
        }
    }
}
