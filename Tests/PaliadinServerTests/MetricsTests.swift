import Foundation
import PaliadinEngine
@testable import PaliadinServer
import PaliadinStore
import PaliadinTestSupport
import Testing

@Suite("Prometheus metrics")
struct MetricsTests {
    static let scrapeToken = "scrape-token-for-tests-0123456789"

    /// One sample of the text format: a name, its labels, a value.
    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// The samples of a scrape (comments skipped).
    static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// The sum of the samples named `name` whose labels include `labels`.
    static func total(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }.map(\.value).reduce(0, +)
    }

    @Test("after a completed, a failed and a cancelled turn and a resume, the figures add up")
    func figures() async throws {
        try await TestHarness.withLiveServer(configure: { $0.metricsToken = Self.scrapeToken }) { _, client in
            let completed = try await client.startTurn("mock:chunks=3")
            let answered = try await client.stream(completed)
            #expect(answered.events.last?.name == "end")
            // A resume from the first event.
            let resumed = try await client.stream(completed, lastEventID: 1)
            #expect(resumed.events.last?.name == "end")

            let failed = try await client.startTurn("mock:status=500")
            #expect(try await client.stream(failed).events.last?.name == "error")
            let failedRow = try await client.waitUntilFinished(failed)
            let failedCode = try #require(failedRow["error_code"] as? String)

            let cancelled = try await client.startTurn("mock:chunks=400 delay=20ms")
            _ = try await client.stream(cancelled, stop: { events in events.contains { $0.name == "content" } })
            #expect(try await client.request(.POST, "/api/paliadin/turn/\(cancelled)/cancel", token: client.harness.ownerToken).status == 202)
            #expect(try await client.waitUntilFinished(cancelled)["status"] as? String == "cancelled")

            // Streams close on the server a moment after their client leaves.
            var scrape = ""
            var samples: [Sample] = []
            for _ in 0..<200 {
                let reply = try await client.request(.GET, "/metrics", token: Self.scrapeToken)
                #expect(reply.status == 200, "\(reply.body)")
                #expect(reply.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
                scrape = reply.body
                samples = Self.samples(scrape)
                if Self.total(samples, ServerMetrics.Names.readersOpen) == 0, Self.total(samples, TurnMetrics.Names.running) == 0 { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            let names = TurnMetrics.Names.self
            #expect(Self.total(samples, names.started) == 3, "\(scrape)")
            #expect(Self.total(samples, names.finished) == 3)
            #expect(Self.total(samples, names.finished, ["status": "completed", "error_code": "none"]) == 1)
            #expect(Self.total(samples, names.finished, ["status": "failed", "error_code": failedCode]) == 1)
            #expect(Self.total(samples, names.finished, ["status": "cancelled", "error_code": "cancelled"]) == 1)
            #expect(Self.total(samples, names.running) == 0)
            #expect(Self.total(samples, ServerMetrics.Names.readersOpen) == 0)
            #expect(Self.total(samples, ServerMetrics.Names.resumes) == 1)
            // Every turn has a duration; two of them had content (the failed one did not).
            #expect(Self.total(samples, names.duration + "_count") == 3)
            #expect(Self.total(samples, names.firstContent + "_count") == 2)
            // The mock reports 11 tokens in and 7 out at the end of a completed stream.
            #expect(Self.total(samples, names.tokensIn) == 11)
            #expect(Self.total(samples, names.tokensOut) == 7)
            #expect(Self.total(samples, names.backendRequest + "_count", ["outcome": "ok"]) == 1)
            #expect(Self.total(samples, names.backendRequest + "_count", ["outcome": failedCode]) == 1)
            #expect(Self.total(samples, names.backendRequest + "_count", ["outcome": "stopped"]) == 1)
            #expect(Self.total(samples, EventLogWriter.batchSizeMetric + "_count") >= 1)
            // The writer writes every event but each turn's last, which closes the row with it.
            var written = 0
            for turn in [completed, failed, cancelled] {
                let detail = try await client.request(.GET, "/api/admin/paliadin/turns/\(turn)", token: client.harness.ownerToken)
                written += ((detail.object["events"] as? [Any])?.count ?? 0) - 1
            }
            #expect(Self.total(samples, EventLogWriter.batchSizeMetric + "_sum") == Double(written))
            #expect(Self.total(samples, EventLogWriter.writeLatencyMetric + "_count") >= 1)
            #expect(scrape.contains("# TYPE \(names.started) counter"))
            #expect(scrape.contains("# TYPE \(names.firstContent) histogram"))
            // Labels name the backend and model of each turn.
            let started = try #require(samples.first { $0.name == names.started })
            #expect(started.labels["model"] == client.harness.configuration.model)
            #expect(started.labels["backend"]?.isEmpty == false)
        }
    }

    @Test("the main listener serves metrics only to the metrics token, with Paliadin's routes on or off")
    func access() async throws {
        for enabled in [true, false] {
            try await TestHarness.withLiveServer(configure: {
                $0.metricsToken = Self.scrapeToken
                $0.enabled = enabled
            }) { harness, client in
                #expect(try await client.request(.GET, "/metrics").status == 401)
                let wrong = try await client.request(.GET, "/metrics", token: "scrape-token-for-tests-0123456780")
                #expect(wrong.status == 401)
                #expect(wrong.object["error"] as? String != nil)
                #expect(wrong.headers["www-authenticate"] == "Bearer")
                // An owner's API token is not the metrics token.
                #expect(try await client.request(.GET, "/metrics", token: harness.ownerToken).status == 401)
                #expect(try await client.request(.GET, "/metrics", token: Self.scrapeToken).status == 200)
            }
        }
        try await TestHarness.withLiveServer { harness, client in
            let off = try await client.request(.GET, "/metrics", token: harness.ownerToken)
            #expect(off.status == 404)
            #expect((off.object["error"] as? String)?.contains("PALIADIN_METRICS_TOKEN") == true, "\(off.body)")
        }
    }

    @Test("the metrics listener answers without a credential, and serves nothing else")
    func privateListener() async throws {
        let port = try await freeLoopbackPort()
        try await TestHarness.withLiveServer(configure: { $0.metricsListen = ListenAddress(host: "127.0.0.1", port: port) }) { _, client in
            let other = LiveClient(port: port, harness: client.harness)
            var reply: LiveClient.Reply?
            // The second listener starts beside the first one.
            for _ in 0..<200 {
                reply = try? await other.request(.GET, "/metrics")
                if reply != nil { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            let scrape = try #require(reply)
            #expect(scrape.status == 200)
            #expect(scrape.body.contains(TurnMetrics.Names.running) || scrape.body.contains(ServerMetrics.Names.readersOpen), "\(scrape.body)")
            #expect(try await other.request(.GET, "/readyz").status == 404)
            #expect(try await other.request(.GET, "/api/paliadin/history?session=s1").status == 404)
        }
    }
}
