import Foundation
import PaliadinCore
import PaliadinTestSupport
import Testing

@Suite("Live SSE streams against a mock OpenAI-compatible upstream")
struct StreamTests {
    @Test("a normal turn streams meta, content and end with consecutive ids; the row holds the answer")
    func normalStream() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("hi")
            let (events, headers, status) = try await client.stream(turnID)
            #expect(status == 200)
            #expect(headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(headers["cache-control"] == "no-cache, no-transform")
            #expect(headers["x-accel-buffering"] == "no")
            let real = events.withoutPings
            #expect(real.first?.name == "meta")
            #expect(real.first?.json["turn_id"] as? String == turnID)
            #expect(real.last?.name == "end")
            #expect(real.map(\.id) == Array(1...real.count).map(Optional.some))
            #expect(real.text == MockOpenAIUpstream.defaultAnswer)
            let end = real.last!.json
            #expect(end["streamed"] as? Bool == true)
            #expect(end["tokens_in"] as? Int == 11)
            #expect(end["tokens_out"] as? Int == 7)
            let row = try await client.waitUntilFinished(turnID)
            #expect(row["status"] as? String == "completed")
            #expect(row["response"] as? String == MockOpenAIUpstream.defaultAnswer)
            // A reader that already has the whole finished turn is told not to reconnect (204).
            let lastID = try #require(real.last?.id)
            let done = try await client.request(.GET, "/api/paliadin/stream/\(turnID)", token: harness.ownerToken, headers: ["Last-Event-ID": "\(lastID)"])
            #expect(done.status == 204)
            let before = try await client.request(.GET, "/api/paliadin/stream/\(turnID)?after=\(lastID - 1)", token: harness.ownerToken)
            #expect(before.status == 200)
            #expect(before.body.contains("event: end"))
            #expect(row["ttft_ms"] is Int)
            #expect(row["duration_ms"] is Int)
            #expect(row["reader_connects"] as? Int == 1)
        }
    }

    @Test("a reader cut mid-stream resumes with Last-Event-ID and gets exactly the remainder")
    func resumeAfterCut() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("mock:chunks=40 delay=15ms")
            let first = try await client.stream(turnID) { events in events.filter { $0.name == "content" }.count >= 5 }
            let lastID = try #require(first.events.last?.id)
            #expect(first.events.last?.isTerminal == false)
            let rest = try await client.stream(turnID, lastEventID: lastID)
            let combined = (first.events + rest.events).withoutPings
            #expect(combined.map(\.id) == Array(1...combined.count).map(Optional.some), "no gap, no duplicate")
            #expect(combined.text == MockOpenAIUpstream.chunkedAnswer(40))
            // The whole turn, replayed after the end, is the same sequence.
            let replay = try await client.stream(turnID).events.withoutPings
            #expect(replay == combined)
            // ?after=N works like Last-Event-ID.
            let tail = try await client.stream(turnID, query: "?after=\(lastID)").events.withoutPings
            #expect(tail == rest.events.withoutPings)
            // Reader counts are written with the event batches, a moment after the stream opens.
            var resumes = 0
            for _ in 0..<200 where resumes < 2 {
                resumes = try await client.request(.GET, "/api/paliadin/turn/\(turnID)", token: harness.ownerToken).object["reader_resumes"] as? Int ?? 0
                if resumes < 2 { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(resumes == 2)
        }
    }

    @Test("three concurrent readers see identical events")
    func concurrentReaders() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("mock:chunks=30 delay=10ms")
            async let a = client.stream(turnID)
            async let b = client.stream(turnID)
            async let c = client.stream(turnID)
            let (ea, eb, ec) = try await (a.events.withoutPings, b.events.withoutPings, c.events.withoutPings)
            #expect(ea == eb)
            #expect(eb == ec)
            #expect(ea.text == MockOpenAIUpstream.chunkedAnswer(30))
        }
    }

    @Test("a reader leaving does not cancel the turn")
    func readerLeaving() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("mock:chunks=20 delay=10ms")
            _ = try await client.stream(turnID) { events in events.count >= 2 }
            let row = try await client.waitUntilFinished(turnID)
            #expect(row["status"] as? String == "completed")
            #expect(row["response"] as? String == MockOpenAIUpstream.chunkedAnswer(20))
        }
    }

    @Test("cancel stops the turn: the stream ends with error cancelled, the partial text is kept")
    func cancel() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("mock:chunks=500 delay=20ms")
            let early = try await client.stream(turnID) { events in events.filter { $0.name == "content" }.count >= 3 }
            let cancel = try await client.request(.POST, "/api/paliadin/turn/\(turnID)/cancel", token: harness.ownerToken)
            #expect(cancel.status == 202)
            let rest = try await client.stream(turnID, lastEventID: early.events.last?.id)
            let last = try #require(rest.events.last)
            #expect(last.name == "error")
            #expect(last.json["code"] as? String == "cancelled")
            let row = try await client.waitUntilFinished(turnID)
            #expect(row["status"] as? String == "cancelled")
            #expect(row["error_code"] as? String == "cancelled")
            let response = try #require(row["response"] as? String)
            #expect(response.hasPrefix("t1 t2 t3 "))
            #expect(response.count < MockOpenAIUpstream.chunkedAnswer(500).count)
            let again = try await client.request(.POST, "/api/paliadin/turn/\(turnID)/cancel", token: harness.ownerToken)
            #expect(again.status == 409)
        }
    }

    @Test("upstream 500 and 429 end in a retryable upstream_error; 400 is not retryable")
    func upstreamStatus() async throws {
        try await TestHarness.withLiveServer { harness, client in
            for (status, retryable) in [(500, true), (429, true), (400, false)] {
                let turnID = try await client.startTurn("mock:status=\(status)")
                let last = try #require(try await client.stream(turnID).events.last)
                #expect(last.name == "error")
                #expect(last.json["code"] as? String == "upstream_error")
                #expect(last.json["retryable"] as? Bool == retryable)
                #expect((last.json["message"] as? String)?.contains("mock failure \(status)") == true)
                let row = try await client.waitUntilFinished(turnID)
                #expect(row["status"] as? String == "failed")
            }
        }
    }

    @Test("an upstream cut mid-stream ends in upstream_error and keeps the partial text")
    func upstreamCut() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("mock:cut=3")
            let events = try await client.stream(turnID).events.withoutPings
            #expect(events.text == "t1 t2 t3 ")
            #expect(events.last?.name == "error")
            #expect(events.last?.json["code"] as? String == "upstream_error")
            #expect(events.last?.json["retryable"] as? Bool == true)
            let row = try await client.waitUntilFinished(turnID)
            #expect(row["status"] as? String == "failed")
            #expect(row["response"] as? String == "t1 t2 t3 ")
        }
    }

    @Test("a silent upstream gets thinking events, then upstream_silence (shrunk limits)")
    func upstreamSilence() async throws {
        try await TestHarness.withLiveServer(configure: { configuration in
            configuration.engine.timing.silenceLimit = .milliseconds(600)
            configuration.engine.timing.thinkingInterval = .milliseconds(150)
        }) { harness, client in
            let turnID = try await client.startTurn("mock:silent")
            let events = try await client.stream(turnID).events.withoutPings
            let thinking = events.filter { $0.name == "thinking" }
            #expect(thinking.count >= 2)
            #expect(thinking.first?.json["since_first"] as? Bool == false)
            #expect(events.last?.name == "error")
            #expect(events.last?.json["code"] as? String == "upstream_silence")
            let row = try await client.waitUntilFinished(turnID)
            #expect(row["error_code"] as? String == "upstream_silence")
        }
    }

    @Test("upstream keep-alive comments pass through as thinking with upstream: true")
    func upstreamHeartbeats() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let turnID = try await client.startTurn("mock:pings=2 delay=30ms")
            let events = try await client.stream(turnID).events.withoutPings
            let upstream = events.filter { $0.name == "thinking" && $0.json["upstream"] as? Bool == true }
            // Keep-alives that reach Paliadin while the previous read is still being handled
            // (a busy machine) count once.
            #expect((1...2).contains(upstream.count))
            #expect(events.text == "pong")
            #expect(events.last?.name == "end")
        }
    }

    @Test("an upstream that is not running ends in a retryable backend_unavailable")
    func backendUnavailable() async throws {
        try await TestHarness.withLiveServer(configure: { $0.backendURL = "http://127.0.0.1:1/v1" }) { harness, client in
            let turnID = try await client.startTurn("hello")
            let last = try #require(try await client.stream(turnID).events.last)
            #expect(last.json["code"] as? String == "backend_unavailable")
            #expect(last.json["retryable"] as? Bool == true)
        }
    }

    @Test("idle streams get ping keep-alives without ids")
    func pings() async throws {
        try await TestHarness.withLiveServer(configure: { configuration in
            configuration.engine.pingInterval = .milliseconds(100)
        }) { harness, client in
            let turnID = try await client.startTurn("mock:chunks=3 delay=400ms")
            let events = try await client.stream(turnID).events
            let pings = events.filter { $0.name == "ping" }
            #expect(!pings.isEmpty)
            // Pings carry no id of their own: the real events stay numbered 1, 2, 3, ...
            let real = events.withoutPings
            #expect(real.map(\.id) == Array(1...real.count).map(Optional.some))
            #expect(events.last?.name == "end")
        }
    }

    @Test("a turn left running by a previous process is closed as interrupted on start, partial text kept")
    func restartInterrupts() async throws {
        let orphan = TurnID()
        try await TestHarness.withLiveServer(prepare: { store in
            var record = TurnRecord(
                id: orphan, userID: TestHarness.owner, sessionID: "s1", pageOrigin: nil, contextJSON: nil,
                userMessage: "before the crash", startedAt: Date().addingTimeInterval(-5), backend: "openai", model: "m")
            record.status = .running
            try await store.insertTurn(record)
            try await store.appendEvents([
                TurnEvent(turnID: orphan, seq: 1, kind: .meta, data: PayloadCoding.encode(MetaPayload(turnID: orphan, startedAt: record.startedAt))),
                TurnEvent(turnID: orphan, seq: 2, kind: .content, data: PayloadCoding.encode(ContentPayload.delta("half an "))),
                TurnEvent(turnID: orphan, seq: 3, kind: .content, data: PayloadCoding.encode(ContentPayload.delta("answer"))),
            ])
        }) { harness, client in
            let row = try await client.request(.GET, "/api/paliadin/turn/\(orphan)", token: harness.ownerToken).object
            #expect(row["status"] as? String == "interrupted")
            #expect(row["error_code"] as? String == "interrupted")
            #expect(row["response"] as? String == "half an answer")
            let events = try await client.stream(orphan.description).events
            #expect(events.map(\.id) == [1, 2, 3, 4])
            #expect(events.last?.json["code"] as? String == "interrupted")
            // A browser that had seen events 5..9 before the crash (never saved) still learns the end.
            let ahead = try await client.stream(orphan.description, lastEventID: 9).events
            #expect(ahead.map(\.id) == [4])
            #expect(ahead.first?.name == "error")
        }
    }
}
