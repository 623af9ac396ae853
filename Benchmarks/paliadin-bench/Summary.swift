import Foundation

/// Percentiles of a sample of milliseconds.
struct Summary: Codable {
    var p50: Double
    var p90: Double
    var p99: Double
    var mean: Double

    init(_ values: [Double]) {
        let sorted = values.sorted()
        func rank(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
        }
        p50 = rank(0.5)
        p90 = rank(0.9)
        p99 = rank(0.99)
        mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count)
    }
}

/// One benchmark run.
struct BenchResult: Codable {
    /// CPU time of the Paliadin process per measured turn (ms), all threads.
    var paliadinCPUPerTurnMS: Double
    var iterations: Int
    var chunks: Int
    var directTTFT: Summary
    var throughTTFT: Summary
    var addedTTFTp50: Double
    var addedTTFTp99: Double
    var directTotal: Summary
    var throughTotal: Summary
    var postAnswered: Summary
    var streamHead: Summary
    var firstContentFromStreamOpen: Summary
    var roundTrip: Summary
    var relayDirect: Summary
    var relayThrough: Summary
    var addedRelayP50: Double
    var addedRelayP99: Double

    var markdown: String {
        func f(_ value: Double) -> String { String(format: "%.3f", value) }
        return """
            | figure (ms, \(iterations) turns of \(chunks) chunks, interleaved) | p50 | p90 | p99 |
            |---|---|---|---|
            | time to first content, direct to the mock | \(f(directTTFT.p50)) | \(f(directTTFT.p90)) | \(f(directTTFT.p99)) |
            | time to first content, through Paliadin (POST turn + SSE) | \(f(throughTTFT.p50)) | \(f(throughTTFT.p90)) | \(f(throughTTFT.p99)) |
            | **added time to first content** | **\(f(addedTTFTp50))** | | **\(f(addedTTFTp99))** |
            | first content from the upstream's write to the client, direct | \(f(relayDirect.p50)) | \(f(relayDirect.p90)) | \(f(relayDirect.p99)) |
            | first content from the upstream's write to the client, through Paliadin | \(f(relayThrough.p50)) | \(f(relayThrough.p90)) | \(f(relayThrough.p99)) |
            | **added relay latency of the first content** | **\(f(addedRelayP50))** | | **\(f(addedRelayP99))** |
            | through Paliadin: POST /turn answered | \(f(postAnswered.p50)) | \(f(postAnswered.p90)) | \(f(postAnswered.p99)) |
            | through Paliadin: stream head received | \(f(streamHead.p50)) | \(f(streamHead.p90)) | \(f(streamHead.p99)) |
            | through Paliadin: first content after the stream is opened | \(f(firstContentFromStreamOpen.p50)) | \(f(firstContentFromStreamOpen.p90)) | \(f(firstContentFromStreamOpen.p99)) |
            | HTTP round trip of a static file (this machine's floor) | \(f(roundTrip.p50)) | \(f(roundTrip.p90)) | \(f(roundTrip.p99)) |
            | total time, direct | \(f(directTotal.p50)) | \(f(directTotal.p90)) | \(f(directTotal.p99)) |
            | total time, through Paliadin | \(f(throughTotal.p50)) | \(f(throughTotal.p90)) | \(f(throughTotal.p99)) |
            | Paliadin CPU time per turn (mean) | \(f(paliadinCPUPerTurnMS)) | | |
            """
    }
}
