import AsyncHTTPClient
import Foundation
import NIOCore
import PaliadinCore
import PaliadinTestSupport
import Testing

/// Readers cut at random points and resumed with `Last-Event-ID`, as a browser's
/// `EventSource` does: each reassembled answer must be the stored answer, byte for byte.
@Suite("Cut and resume: 200 random trials")
struct ResumeTrialsTests {
    /// The seed of the trials; a failure names its trial, and the same seed replays it.
    static let seed: UInt64 = 20_261_125

    /// One trial's plan: the turn's script and where each connection is cut (bytes of body read).
    struct Trial: Sendable {
        let number: Int
        let message: String
        let cuts: [Int]
    }

    static func trials(count: Int) -> [Trial] {
        var random = SeededRandom(seed: seed)
        let scripts = ["delay=1ms", "delay=3ms", "together", "burst"]
        return (0..<count).map { number in
            let message: String
            if number % 4 == 3 {
                message = "mock:answer=unicode delay=\(Int.random(in: 0...2, using: &random))ms"
            } else {
                message = "mock:chunks=\(Int.random(in: 5...120, using: &random)) \(scripts.randomElement(using: &random)!)"
            }
            // Up to four cuts, anywhere from the first byte to well past a short answer.
            let cuts = (0..<Int.random(in: 1...4, using: &random)).map { _ in Int.random(in: 0...2_500, using: &random) }
            return Trial(number: number, message: message, cuts: cuts)
        }
    }

    /// What one connection delivered before it was cut (or the stream ended).
    struct Piece {
        var events: [ReceivedEvent] = []
        var bytes = 0
    }

    /// Opens the stream after `lastEventID` and reads at most `budget` bytes of its body (a
    /// partial frame at the cut is lost, as it would be in a browser), then drops the connection.
    static func read(_ client: LiveClient, _ turnID: String, after lastEventID: Int?, budget: Int?) async throws -> Piece {
        var request = HTTPClientRequest(url: client.base + "/api/paliadin/stream/\(turnID)")
        request.headers.add(name: "Authorization", value: "Bearer \(client.harness.ownerToken)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var piece = Piece()
        guard response.status == .ok else {
            // 204: the reader already had the whole of a finished turn.
            #expect(response.status == .noContent, "stream answered \(response.status)")
            return piece
        }
        var parser = ServerSentEventParser()
        reading: for try await var buffer in response.body {
            if let budget, piece.bytes + buffer.readableBytes > budget {
                buffer = buffer.getSlice(at: buffer.readerIndex, length: budget - piece.bytes) ?? ByteBuffer()
            }
            piece.bytes += buffer.readableBytes
            for item in try parser.feed(buffer.readableBytesView) {
                guard case .event(let event) = item, event.name != "ping" else { continue }
                piece.events.append(ReceivedEvent(id: event.id.flatMap(Int.init), name: event.name ?? "message", data: event.data))
                if piece.events.last!.isTerminal { break reading }
            }
            if let budget, piece.bytes >= budget { break reading }
        }
        return piece
    }

    /// Runs one trial: cut at each planned point, resume from the last whole event, then read
    /// to the end. Returns what went wrong, or nil.
    static func run(_ trial: Trial, client: LiveClient) async throws -> String? {
        let turnID = try await client.startTurn(trial.message, session: "trial-\(trial.number)")
        var events: [ReceivedEvent] = []
        for budget in trial.cuts + [nil] {
            let piece = try await read(client, turnID, after: events.last?.id, budget: budget)
            events += piece.events
            if events.last?.isTerminal == true { break }
        }
        let row: [String: Any]
        do {
            row = try await client.waitUntilFinished(turnID)
        } catch {
            return "trial \(trial.number) (\(trial.message), cuts \(trial.cuts)): \(error); events \(events.map(\.name)), last \(events.last?.data ?? "")"
        }
        let stored = row["response"] as? String ?? "<none>"
        let ids = events.compactMap(\.id)
        if ids != Array(1..<(ids.count + 1)) || ids.count != events.count {
            return "trial \(trial.number) (\(trial.message), cuts \(trial.cuts)): ids \(ids) have a gap or a repeat"
        }
        if events.last?.name != "end" {
            return "trial \(trial.number) (\(trial.message), cuts \(trial.cuts)): ended with \(events.last?.name ?? "nothing")"
        }
        if Array(events.text.utf8) != Array(stored.utf8) {
            return "trial \(trial.number) (\(trial.message), cuts \(trial.cuts)): reassembled \(events.text.utf8.count) bytes, stored \(stored.utf8.count); events \(events.map { "\($0.id ?? 0):\($0.name):\($0.data.utf8.count)" })"
        }
        return nil
    }

    @Test("200 readers cut at random byte offsets and resumed with Last-Event-ID reassemble the stored answer exactly")
    func randomCutsAndResumes() async throws {
        let trials = Self.trials(count: 200)
        try await TestHarness.withLiveServer { _, client in
            // Eight trials at a time: some cut live turns, some replay finished ones from the store.
            let failures = try await withThrowingTaskGroup(of: String?.self) { group in
                var failures: [String] = []
                var next = trials.makeIterator()
                for _ in 0..<8 {
                    if let trial = next.next() { group.addTask { try await Self.run(trial, client: client) } }
                }
                while let result = try await group.next() {
                    if let result { failures.append(result) }
                    if let trial = next.next() { group.addTask { try await Self.run(trial, client: client) } }
                }
                return failures
            }
            #expect(failures.isEmpty, "\(failures.count) of 200 trials failed (seed \(Self.seed)):\n\(failures.prefix(10).joined(separator: "\n"))")
        }
    }
}
