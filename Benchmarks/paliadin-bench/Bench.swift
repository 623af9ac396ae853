import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PaliadinCore
import PaliadinTestSupport

/// `paliadin-bench`: what Paliadin adds to the time to first content, measured against the
/// same mock upstream directly and through a real `paliadin serve` process, interleaved.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paliadin-bench", abstract: "Measure Paliadin's added time to first content against a mock upstream.")

    @Option(help: "Path of the paliadin binary to measure (build it with -c release).")
    var paliadin: String

    @Option(help: "Turns measured on each path.")
    var iterations = 300

    @Option(help: "Chunks the mock streams per answer.")
    var chunks = 200

    @Option(help: "Warm-up turns on each path, not counted.")
    var warmup = 30

    @Option(help: "Write the results as JSON here.")
    var json: String?

    @Flag(help: "Measure only the SQLite store's operations.")
    var storeOnly = false

    func run() async throws {
        if storeOnly {
            print(try await StoreBench.run(iterations: iterations))
            return
        }
        let upstream = MockOpenAIUpstream()
        try await upstream.run { mockURL in
            let database = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-bench-\(UUID().uuidString)/db.sqlite").path
            let server = try GatewayProcess(binary: paliadin, backendURL: mockURL, database: database)
            defer { server.stop() }
            try await server.waitUntilReady()
            let client = HTTPClient.shared
            let message = "mock:chunks=\(chunks)"
            var direct: [Double] = []
            var through: [Double] = []
            var directTotal: [Double] = []
            var throughTotal: [Double] = []
            var posted: [Double] = []
            var heads: [Double] = []
            var fromStreamOpen: [Double] = []
            var relayDirect: [Double] = []
            var relayThrough: [Double] = []
            var roundTrips: [Double] = []
            var cpuAtStart = 0.0
            for index in 0..<(warmup + iterations) {
                if index == warmup { cpuAtStart = server.cpuSeconds }
                let directTag = "d\(index)"
                let throughTag = "t\(index)"
                let d = try await Self.direct(client: client, baseURL: mockURL, message: message + " tag=\(directTag)")
                let t = try await Self.through(client: client, base: server.base, message: message + " tag=\(throughTag)")
                let rtt = try await Self.roundTrip(client: client, base: server.base)
                guard index >= warmup else { continue }
                roundTrips.append(rtt)
                if let written = upstream.firstContentWritten(tag: directTag), let arrived = d.firstContentAt {
                    relayDirect.append(Self.ms(written.duration(to: arrived)))
                }
                if let written = upstream.firstContentWritten(tag: throughTag), let arrived = t.firstContentAt {
                    relayThrough.append(Self.ms(written.duration(to: arrived)))
                }
                fromStreamOpen.append(t.firstContent - t.posted)
                direct.append(d.firstContent)
                directTotal.append(d.total)
                through.append(t.firstContent)
                throughTotal.append(t.total)
                posted.append(t.posted)
                heads.append(t.streamHead)
            }
            let cpuPerTurn = (server.cpuSeconds - cpuAtStart) / Double(iterations) * 1000
            let result = BenchResult(
                paliadinCPUPerTurnMS: cpuPerTurn,
                iterations: iterations, chunks: chunks, directTTFT: Summary(direct), throughTTFT: Summary(through),
                addedTTFTp50: Summary(through).p50 - Summary(direct).p50, addedTTFTp99: Summary(through).p99 - Summary(direct).p99,
                directTotal: Summary(directTotal), throughTotal: Summary(throughTotal), postAnswered: Summary(posted),
                streamHead: Summary(heads), firstContentFromStreamOpen: Summary(fromStreamOpen), roundTrip: Summary(roundTrips),
                relayDirect: Summary(relayDirect), relayThrough: Summary(relayThrough),
                addedRelayP50: Summary(relayThrough).p50 - Summary(relayDirect).p50,
                addedRelayP99: Summary(relayThrough).p99 - Summary(relayDirect).p99)
            print(result.markdown)
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try encoder.encode(result).write(to: URL(fileURLWithPath: json))
            }
        }
    }

    struct Timing {
        var firstContent: Double
        var total: Double
        /// Through Paliadin: when the POST answered, and when the stream's head arrived.
        var posted: Double = 0
        var streamHead: Double = 0
        /// When the first content reached the client.
        var firstContentAt: ContinuousClock.Instant?
    }

    /// One small static request to Paliadin: the HTTP round trip floor of this machine.
    static func roundTrip(client: HTTPClient, base: String) async throws -> Double {
        let start = ContinuousClock.now
        let response = try await client.execute(HTTPClientRequest(url: base + "/paliadin/widget.js"), timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return ms(start.duration(to: .now))
    }

    /// One streamed completion straight from the mock.
    static func direct(client: HTTPClient, baseURL: String, message: String) async throws -> Timing {
        let start = ContinuousClock.now
        var request = HTTPClientRequest(url: baseURL + "/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"\#(message)"}]}"#))
        let response = try await client.execute(request, timeout: .seconds(30))
        var first: Duration?
        var firstAt: ContinuousClock.Instant?
        var parser = ServerSentEventParser()
        for try await buffer in response.body {
            for item in try parser.feed(buffer.readableBytesView) {
                if first == nil, case .event(let event) = item, event.data.contains(#""content""#) {
                    firstAt = .now
                    first = start.duration(to: firstAt!)
                }
            }
        }
        return Timing(firstContent: ms(first ?? .zero), total: ms(start.duration(to: .now)), firstContentAt: firstAt)
    }

    /// One turn through Paliadin: POST the turn, open its stream, wait for the first content event.
    static func through(client: HTTPClient, base: String, message: String) async throws -> Timing {
        let start = ContinuousClock.now
        var post = HTTPClientRequest(url: base + "/api/paliadin/turn")
        post.method = .POST
        post.headers.add(name: "Content-Type", value: "application/json")
        post.body = .bytes(ByteBuffer(string: #"{"user_message":"\#(message)","session_id":"bench"}"#))
        let started = try await client.execute(post, timeout: .seconds(30))
        let body = try await started.body.collect(upTo: 1 << 16)
        let posted = ms(start.duration(to: .now))
        guard started.status == .ok,
            let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let sseURL = object["sse_url"] as? String
        else { throw BenchError("start turn failed: \(started.status) \(String(buffer: body))") }
        let response = try await client.execute(HTTPClientRequest(url: base + sseURL), timeout: .seconds(30))
        let head = ms(start.duration(to: .now))
        var first: Duration?
        var firstAt: ContinuousClock.Instant?
        var parser = ServerSentEventParser()
        reading: for try await buffer in response.body {
            for item in try parser.feed(buffer.readableBytesView) {
                guard case .event(let event) = item else { continue }
                if first == nil, event.name == "content" {
                    firstAt = .now
                    first = start.duration(to: firstAt!)
                }
                if event.name == "end" || event.name == "error" { break reading }
            }
        }
        return Timing(firstContent: ms(first ?? .zero), total: ms(start.duration(to: .now)), posted: posted, streamHead: head, firstContentAt: firstAt)
    }

    static func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
