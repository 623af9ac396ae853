import Foundation

/// Durations as people write them in settings and on command lines: `250ms`, `5s`, `30m`,
/// `2h`, or a plain number of seconds.
public enum DurationText {
    /// Parses a duration; nil for anything else, for a negative one, or for one over a year
    /// (so no setting can overflow the clock arithmetic).
    public static func parse(_ text: String) -> Duration? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("min", 60), ("h", 3600)]
        for (suffix, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)) else { return nil }
            return milliseconds(value * scale * 1000)
        }
        guard let seconds = Double(text) else { return nil }
        return milliseconds(seconds * 1000)
    }

    /// A duration in the largest whole unit: `90s`, `250ms`, `30m`, `2h`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds != 0, milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds != 0, milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }

    private static func milliseconds(_ value: Double) -> Duration? {
        guard value.isFinite, value >= 0, value <= 366 * 86_400_000 else { return nil }
        return .milliseconds(Int64(value.rounded()))
    }
}
