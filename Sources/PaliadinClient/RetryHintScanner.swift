/// Picks the `retry:` field (milliseconds to wait before reconnecting) out of an event
/// stream's bytes, which `ServerSentEventParser` passes over. Lines may be split anywhere
/// between the buffers fed.
struct RetryHintScanner: Sendable {
    private enum LineState: Sendable {
        /// Matching `retry:` from the start of a line: this many bytes matched.
        case prefix(Int)
        /// In the value of a `retry:` line.
        case value([UInt8])
        /// In some other line.
        case other
    }

    private static let field = Array("retry:".utf8)
    private var line = LineState.prefix(0)
    /// The latest hint received.
    private(set) var hint: Duration?

    /// Scans the next bytes of the stream.
    mutating func scan(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if case .value(let digits) = line { take(digits) }
                line = .prefix(0)
                continue
            }
            switch line {
            case .prefix(let matched):
                if byte == Self.field[matched] {
                    line = matched + 1 == Self.field.count ? .value([]) : .prefix(matched + 1)
                } else {
                    line = .other
                }
            case .value(var digits):
                // A value longer than any sane number of milliseconds is not one.
                if digits.count > 12 {
                    line = .other
                } else {
                    digits.append(byte)
                    line = .value(digits)
                }
            case .other:
                break
            }
        }
    }

    /// A value of ASCII digits only (after one optional leading space) is the new hint.
    private mutating func take(_ value: [UInt8]) {
        let digits = value.first == UInt8(ascii: " ") ? Array(value.dropFirst()) : value
        guard !digits.isEmpty, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let milliseconds = Int(String(decoding: digits, as: UTF8.self))
        else { return }
        hint = .milliseconds(milliseconds)
    }
}
