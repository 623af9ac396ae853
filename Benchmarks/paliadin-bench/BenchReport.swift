import Foundation

/// Everything one run measured, with the targets of issue 3 checked. Encoded as the JSON
/// result; rendered as Markdown by `BenchReport+Markdown.swift`.
struct BenchReport: Codable, Sendable {
    /// A figure next to its target.
    struct Target: Codable, Sendable {
        var figure: String
        var measured: String
        var target: String
        var met: Bool
    }

    var scenarios: [String] = []
    /// The database Paliadin ran on.
    var database = "SQLite"
    var quick = false
    var clientThreads = 1
    var mockThreads = 1
    /// Paliadin's RSS after start and warm-up (KiB).
    var idleAtStartKiB: Int?
    var ttft: [TTFTScenario.Result] = []
    var streams: StreamsScenario.Result?
    var cpu: CPUScenario.Result?
    var post: PostScenario.Result?
    var store: StoreBench.Result?
    var targets: [Target] = []

    /// Fills `targets` from what was measured.
    mutating func checkTargets() {
        targets = []
        func add(_ figure: String, _ value: Double, _ unit: String, _ target: String, _ met: Bool, decimals: Int = 3) {
            targets.append(Target(figure: figure, measured: Self.format(value, decimals) + unit, target: target, met: met))
        }
        if let c1 = ttft.first(where: { $0.concurrency == 1 && $0.chunks == 200 && $0.firstChunkDelayMS == 0 && !$0.oneRequest }) {
            add("added time to first content, concurrency 1, p50", c1.addedTTFTP50, " ms", "≤ 0.3 ms", c1.addedTTFTP50 <= 0.3)
            add("added time to first content, concurrency 1, p99", c1.addedTTFTP99, " ms", "≤ 2 ms", c1.addedTTFTP99 <= 2)
            add("added time to first content, 200 chunks, p50 (issue 2)", c1.addedTTFTP50, " ms", "< 1 ms", c1.addedTTFTP50 < 1)
        }
        if let single = ttft.first(where: { $0.oneRequest }) {
            add(
                "added time to first content, 200 chunks, p50, one request (POST answered with the stream)", single.addedTTFTP50, " ms",
                "< 1 ms (issue 2, if this path counts)", single.addedTTFTP50 < 1)
        }
        if let c64 = ttft.first(where: { $0.concurrency == 64 }) {
            add("added time to first content, concurrency 64, p50", c64.addedTTFTP50, " ms", "≤ 1 ms", c64.addedTTFTP50 <= 1)
            add("added time to first content, concurrency 64, p99", c64.addedTTFTP99, " ms", "≤ 5 ms", c64.addedTTFTP99 <= 5)
        }
        if let streams, !streams.levels.isEmpty {
            let top = Double(streams.highestPassed)
            if scenarios.contains("streams") {
                add("concurrent paced streams (64 deltas @ 20 ms), no gap > 250 ms, no error", top, "", "≥ 2,000", top >= 2000, decimals: 0)
            }
            let memory = streams.memory
            add("RSS per open stream (at \(memory.peakStreams) streams)", memory.perStreamKiB, " KiB", "≤ 32 KiB", memory.perStreamKiB <= 32, decimals: 1)
            let growth = Double(memory.afterLoadKiB - memory.idleBeforeLoadKiB) / Double(max(1, memory.idleBeforeLoadKiB)) * 100
            add("RSS growth \(BenchReport.format(memory.afterLoadSeconds, 0)) s after the load vs idle just before it", growth, " %", "within 10%", abs(growth) <= 10, decimals: 1)
        }
        if let idle = idleAtStartKiB {
            add("idle RSS (after start and warm-up)", Double(idle) / 1024, " MiB", "≤ 40 MiB", Double(idle) <= 40 * 1024, decimals: 1)
        }
        if let post {
            add("POST /turn rate (\(post.connections) connections)", post.turnsPerSecond, "/s", "≥ 3,000/s", post.turnsPerSecond >= 3000, decimals: 0)
            add("POST /turn p99", post.latency.p99, " ms", "≤ 10 ms", post.latency.p99 <= 10 && post.errors == 0)
        }
    }

    static func format(_ value: Double, _ decimals: Int = 3) -> String {
        String(format: "%.\(decimals)f", value)
    }
}
