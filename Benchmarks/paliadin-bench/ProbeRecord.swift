import NIOCore
import NIOHTTP1

/// What the load client sends on one connection, and how it reads the answer.
struct ProbeRequest: Sendable {
    /// How the response body is read.
    enum Reading: Sendable {
        /// Kept whole (a JSON answer).
        case body
        /// Scanned as SSE of this dialect; the body itself is not kept.
        case stream(SSEScanner.Dialect)
    }

    var head: HTTPRequestHead
    var body: ByteBuffer?
    var reading: Reading
    /// Keep every gap between content frames (in µs) in the record.
    var keepGaps = false
    /// The request fails (and its connection is closed) when it is not answered whole by then.
    var timeoutMS: Int64 = 60_000
    var promise: EventLoopPromise<ProbeRecord>
}

/// What one request/response saw. Times are `BenchClock` nanoseconds; 0 = did not happen.
struct ProbeRecord: Sendable {
    var sent: UInt64 = 0
    var head: UInt64 = 0
    var firstContent: UInt64 = 0
    /// The `end` / `[DONE]` frame.
    var endFrame: UInt64 = 0
    /// The end of the HTTP response.
    var finished: UInt64 = 0
    var status = 0
    var keepAlive = false
    var contentFrames = 0
    var maxGapNanos: UInt64 = 0
    var gapsMicros: [UInt32] = []
    var bytes = 0
    var body: ByteBuffer?
    /// Why the request failed, if it did: a status, a connection error, a stream that ended
    /// without its end frame, an `error` event.
    var failure: String?
}
