/// One measured turn, direct or through Paliadin. Times are `BenchClock` nanoseconds
/// (0 = did not happen); `start` is when the client began the turn.
struct TurnResult: Sendable {
    var start: UInt64
    /// Through Paliadin: when the `POST /api/paliadin/turn` answer ended.
    var postAnswered: UInt64 = 0
    /// The head of the streamed response.
    var head: UInt64 = 0
    var firstContent: UInt64 = 0
    var endFrame: UInt64 = 0
    var finished: UInt64 = 0
    var contentFrames = 0
    var maxGapNanos: UInt64 = 0
    var gapsMicros: [UInt32] = []
    var bytes = 0
    var failure: String?

    init(start: UInt64) {
        self.start = start
    }

    /// Takes what the streamed response saw.
    mutating func take(_ record: ProbeRecord) {
        head = record.head
        firstContent = record.firstContent
        endFrame = record.endFrame
        finished = record.finished
        contentFrames = record.contentFrames
        maxGapNanos = record.maxGapNanos
        gapsMicros = record.gapsMicros
        bytes += record.bytes
        failure = failure ?? record.failure
        if failure == nil, contentFrames == 0 { failure = "no content" }
    }

    var ok: Bool { failure == nil }
    /// Time to first content (ms).
    var ttft: Double { BenchClock.ms(start, firstContent) }
    /// Time to the end of the response (ms).
    var total: Double { BenchClock.ms(start, finished) }
    /// Time to the POST answer (ms).
    var post: Double { BenchClock.ms(start, postAnswered) }
    /// Time to the head of the stream (ms).
    var streamHead: Double { BenchClock.ms(start, head) }
    var maxGapMS: Double { Double(maxGapNanos) / 1e6 }
}
