import Foundation

/// RFC 3339 timestamps with milliseconds, in UTC: the one time format of Paliadin's JSON.
public enum TimestampFormat {
    /// `2026-11-24T23:25:59.123Z`
    public static func string(from date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// Parses RFC 3339 with or without fractional seconds.
    public static func date(from text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) {
            return date
        }
        return try? Date(text, strategy: .iso8601)
    }

    /// The UTC calendar day of a date, `YYYY-MM-DD`.
    public static func day(of date: Date) -> String {
        String(string(from: date).prefix(10))
    }
}
