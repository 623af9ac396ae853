import NIOCore

/// The one clock of the benchmark: monotonic nanoseconds (`NIODeadline`), read on any thread,
/// so the mock's write times and the client's read times can be subtracted.
enum BenchClock {
    /// Now, in monotonic nanoseconds.
    @inline(__always)
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Milliseconds between two readings (negative when `to` comes first).
    @inline(__always)
    static func ms(_ from: UInt64, _ to: UInt64) -> Double { (Double(to) - Double(from)) / 1e6 }

    /// Milliseconds of a `Duration`.
    static func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

/// An error of the harness itself (not a measured failure).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
