import Foundation
import PaliadinCore
import PaliadinServer
import PaliadinTestSupport
import Testing

@Suite("Upstream faults end in one last frame, and the server goes on")
struct UpstreamFaultTests {
    /// Reads the turn's whole stream (to the server closing it) and checks its shape: ids 1…n,
    /// one terminal event, last. Returns the events.
    static func wholeStream(_ client: LiveClient, _ message: String) async throws -> [ReceivedEvent] {
        let turnID = try await client.startTurn(message)
        let (events, _, status) = try await client.stream(turnID, untilClosed: true)
        #expect(status == 200)
        #expect(events.map(\.id) == Array(1...events.count).map(Optional.some), "\(message): ids without gap")
        #expect(events.filter(\.isTerminal).count == 1, "\(message): one last frame")
        #expect(events.last?.isTerminal == true, "\(message): nothing after the last frame")
        return events
    }

    @Test("500, 429 with Retry-After, a cut, a chunk that is not JSON, an endless line: one error frame each")
    func failures() async throws {
        try await TestHarness.withLiveServer { _, client in
            let cases: [(message: String, says: String)] = [
                ("mock:status=500", "500"), ("mock:status=429", "retry after 7"), ("mock:cut=3", "stream broke"),
                ("mock:garbage", "not valid JSON"), ("mock:endless", "longer than 1048576 bytes"),
            ]
            for (message, says) in cases {
                let events = try await Self.wholeStream(client, message)
                let last = try #require(events.last)
                #expect(last.name == "error", "\(message)")
                #expect(last.json["code"] as? String == TurnErrorCode.upstreamError, "\(message): \(last.data)")
                #expect((last.json["message"] as? String)?.contains(says) == true, "\(message): \(last.data)")
            }
            // Content that arrived before the cut is kept.
            let cut = try await Self.wholeStream(client, "mock:cut=3")
            #expect(cut.filter { $0.name == "content" }.compactMap { $0.json["delta"] as? String }.joined() == "t1 t2 t3 ")
            // The server is fine: the next turn completes.
            let after = try await Self.wholeStream(client, "hello")
            #expect(after.last?.name == "end")
        }
    }

    @Test("a 10 MiB answer streams whole in events of at most 64 KiB, and is stored whole")
    func hugeAnswer() async throws {
        try await TestHarness.withLiveServer { _, client in
            let turnID = try await client.startTurn("mock:huge=10")
            let (events, _, _) = try await client.stream(turnID, untilClosed: true)
            #expect(events.last?.name == "end")
            let text = events.filter { $0.name == "content" }.compactMap { $0.json["delta"] as? String }.joined()
            #expect(text == MockOpenAIUpstream.hugeAnswer(mebibytes: 10))
            let largest = events.filter { $0.name == "content" }.map(\.data.utf8.count).max() ?? 0
            #expect(largest < 70 * 1024, "deltas arriving together are joined only up to 64 KiB per event (largest: \(largest) bytes)")
            let row = try await client.waitUntilFinished(turnID)
            #expect((row["response"] as? String)?.utf8.count == 10 * 1024 * 1024)
        }
    }

    @Test("a backend that refuses connections: one error frame (backend_unavailable), the server goes on")
    func refused() async throws {
        // Port 1 (tcpmux): nothing listens there on a loopback of a test machine.
        try await TestHarness.withLiveServer(configure: { $0.backendURL = "http://127.0.0.1:1/v1" }) { _, client in
            for _ in 0..<3 {
                let events = try await Self.wholeStream(client, "hello")
                #expect(events.last?.name == "error")
                #expect(events.last?.json["code"] as? String == TurnErrorCode.backendUnavailable, "\(events.last?.data ?? "")")
            }
        }
    }
}
