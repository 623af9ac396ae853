import NIOCore
import NIOHTTP1

/// The load client's handler, after NIO's HTTP/1.1 client codec: takes one `ProbeRequest` at
/// a time, times the response head, scans the body (SSE) as it arrives, and completes the
/// request's promise with a `ProbeRecord` at the end of the response. Lives on its event loop.
final class ProbeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ProbeRequest
    typealias OutboundOut = HTTPClientRequestPart

    private struct Pending {
        var promise: EventLoopPromise<ProbeRecord>
        var reading: ProbeRequest.Reading
        var keepGaps: Bool
        var record = ProbeRecord()
        var scanner: SSEScanner?
        var lastContent: UInt64 = 0
        var timer: Scheduled<Void>?
    }

    private var pending: Pending?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending == nil else {
            request.promise.fail(BenchError("a request is already in flight on this connection"))
            promise?.fail(BenchError("busy"))
            return
        }
        var state = Pending(promise: request.promise, reading: request.reading, keepGaps: request.keepGaps)
        if case .stream(let dialect) = request.reading { state.scanner = SSEScanner(dialect: dialect) }
        let channel = context.channel
        state.timer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(request.timeoutMS)) { [self] in
            fail("timeout after \(request.timeoutMS) ms")
            channel.close(promise: nil)
        }
        state.record.sent = BenchClock.now()
        pending = state
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let written = context.eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenFailure { [self] error in fail("write failed: \(error)") }
        written.futureResult.cascade(to: promise)
        context.write(wrapOutboundOut(.end(nil)), promise: written)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Taken out while it is changed, so its arrays and buffers are not copied on write.
        guard var state = pending else { return }
        pending = nil
        let now = BenchClock.now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            state.record.head = now
            state.record.status = Int(head.status.code)
            state.record.keepAlive = head.isKeepAlive
        case .body(let buffer):
            state.record.bytes += buffer.readableBytes
            switch state.reading {
            case .body:
                if state.record.body == nil {
                    state.record.body = buffer
                } else {
                    var part = buffer
                    state.record.body!.writeBuffer(&part)
                }
            case .stream:
                var scanner = state.scanner!
                state.scanner = nil
                scanner.scan(buffer) { signal in
                    switch signal {
                    case .content:
                        if state.record.firstContent == 0 {
                            state.record.firstContent = now
                        } else {
                            let gap = now &- state.lastContent
                            if gap > state.record.maxGapNanos { state.record.maxGapNanos = gap }
                            if state.keepGaps { state.record.gapsMicros.append(UInt32(min(gap / 1000, UInt64(UInt32.max)))) }
                        }
                        state.lastContent = now
                        state.record.contentFrames += 1
                    case .end:
                        if state.record.endFrame == 0 { state.record.endFrame = now }
                    case .error:
                        if state.record.failure == nil { state.record.failure = "error event" }
                        if state.record.endFrame == 0 { state.record.endFrame = now }
                    }
                }
                state.scanner = scanner
            }
        case .end:
            state.record.finished = now
            if state.record.status != 200, state.record.failure == nil {
                state.record.failure = "status \(state.record.status)"
            }
            if case .stream = state.reading, state.record.endFrame == 0, state.record.failure == nil {
                state.record.failure = "stream ended without its end frame"
            }
            state.timer?.cancel()
            state.promise.succeed(state.record)
            return
        }
        pending = state
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail("connection closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail("connection error: \(error)")
        context.close(promise: nil)
    }

    /// Fails the request in flight, if any, with what was seen so far.
    private func fail(_ reason: String) {
        guard var state = pending else { return }
        pending = nil
        state.timer?.cancel()
        state.record.failure = state.record.failure ?? reason
        state.record.finished = BenchClock.now()
        state.promise.succeed(state.record)
    }
}
