/// Gaps between content frames, in 100 µs buckets up to 2 s (the rest in one overflow bucket),
/// plus the exact largest gap: cheap to fill with millions of gaps, exact enough for p99.
struct GapHistogram: Sendable {
    static let bucketMicros: UInt32 = 100
    static let bucketCount = 20_000
    private(set) var buckets = [UInt64](repeating: 0, count: GapHistogram.bucketCount + 1)
    private(set) var count: UInt64 = 0
    private(set) var maxMicros: UInt32 = 0

    mutating func add(micros: UInt32) {
        buckets[min(Int(micros / Self.bucketMicros), Self.bucketCount)] += 1
        count += 1
        if micros > maxMicros { maxMicros = micros }
    }

    mutating func add(_ gaps: [UInt32]) {
        for gap in gaps { add(micros: gap) }
    }

    /// The upper edge of the bucket holding quantile `q`, in milliseconds (capped at the exact max).
    func quantileMS(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let target = UInt64((q * Double(count)).rounded(.up))
        var seen: UInt64 = 0
        for (index, n) in buckets.enumerated() {
            seen += n
            if seen >= target {
                let upper = Double((index + 1) * Int(Self.bucketMicros)) / 1000
                return min(upper, maxMS)
            }
        }
        return maxMS
    }

    var maxMS: Double { Double(maxMicros) / 1000 }
}
