import AsyncHTTPClient
import Foundation
import NIOCore
import PaliadinCore
import PaliadinTestSupport
import Testing

@Suite("POST /turn answered with the stream itself")
struct StreamingPostTests {
    @Test("Accept: text/event-stream gets the turn's events in the POST's answer, the id in a header, and the row as usual")
    func streamingPost() async throws {
        try await TestHarness.withLiveServer { harness, client in
            var request = HTTPClientRequest(url: client.base + "/api/paliadin/turn")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(harness.ownerToken)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Accept", value: "text/event-stream")
            request.body = .bytes(ByteBuffer(string: #"{"user_message":"mock:chunks=12 delay=5ms","session_id":"s1"}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
            let turnID = try #require(response.headers.first(name: "X-Paliadin-Turn-ID"))
            var parser = ServerSentEventParser()
            var events: [ReceivedEvent] = []
            for try await buffer in response.body {
                for item in try parser.feed(buffer.readableBytesView) {
                    guard case .event(let event) = item else { continue }
                    events.append(ReceivedEvent(id: event.id.flatMap(Int.init), name: event.name ?? "message", data: event.data))
                }
            }
            let real = events.withoutPings
            #expect(real.first?.name == "meta")
            #expect(real.first?.json["turn_id"] as? String == turnID)
            #expect(real.last?.name == "end")
            #expect(real.map(\.id) == Array(1...real.count).map(Optional.some))
            #expect(real.text == MockOpenAIUpstream.chunkedAnswer(12))
            let row = try await client.waitUntilFinished(turnID)
            #expect(row["status"] as? String == "completed")
            #expect(row["response"] as? String == MockOpenAIUpstream.chunkedAnswer(12))
            // The same turn can be read again through GET, like any other.
            #expect(try await client.stream(turnID).events.withoutPings == real)
        }
    }

    @Test("a client accepting JSON (or anything) still gets {turn_id, sse_url}; bad input is refused before any stream")
    func jsonStaysTheDefault() async throws {
        try await TestHarness.withLiveServer { harness, client in
            for accept in ["application/json", "*/*", "application/json, text/event-stream"] {
                let reply = try await client.request(
                    .POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"hi"}"#, headers: ["Accept": accept])
                #expect(reply.status == 200)
                #expect(reply.object["sse_url"] is String, "Accept: \(accept)")
            }
            let refused = try await client.request(
                .POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"  "}"#,
                headers: ["Accept": "text/event-stream"])
            #expect(refused.status == 400)
            #expect(refused.object["error"] as? String == "user_message required")
        }
    }
}
