/// Nearest-rank percentiles of a sample.
public struct Percentiles: Sendable, Equatable, Codable {
    public var p50: Int?
    public var p95: Int?
    public var p99: Int?

    public init(p50: Int?, p95: Int?, p99: Int?) {
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }

    /// Percentiles of `values` (any order); all `nil` for an empty sample.
    public init(of values: [Int]) {
        let sorted = values.sorted()
        self.init(p50: Self.rank(0.50, sorted), p95: Self.rank(0.95, sorted), p99: Self.rank(0.99, sorted))
    }

    /// The nearest-rank percentile `q` (0...1) of an ascending sample.
    public static func rank(_ q: Double, _ sorted: [Int]) -> Int? {
        guard !sorted.isEmpty else { return nil }
        let index = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(index, 0), sorted.count - 1)]
    }
}
