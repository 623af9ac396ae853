import NIOCore
import NIOHTTP1

/// One load-client worker's connections and turns, on one event loop: a keep-alive
/// connection to the mock (direct turns) and one to Paliadin, used in turn by the POST and by
/// the stream, as a browser would; a connection is kept only while the answers allow it
/// (`Connection: close` costs the next request a new connection). Each turn runs as one
/// chain of futures on the loop, so no hop to another thread is inside a measured interval.
final class TurnDriver: Sendable {
    /// The connections a worker keeps between turns.
    private enum Slot: Int { case mock, paliadin }

    let eventLoop: any EventLoop
    private let mockPort: Int
    private let paliadinPort: Int
    private let slots: NIOLoopBoundBox<[HTTPConnection?]>

    init(eventLoop: any EventLoop, mockPort: Int, paliadinPort: Int) {
        self.eventLoop = eventLoop
        self.mockPort = mockPort
        self.paliadinPort = paliadinPort
        slots = .makeBoxSendingValue([nil, nil], eventLoop: eventLoop)
    }

    /// A streamed completion straight from the mock.
    func direct(message: String, keepGaps: Bool = false) -> EventLoopFuture<TurnResult> {
        eventLoop.flatSubmit {
            let start = BenchClock.now()
            let body = ByteBuffer(string: #"{"model":"bench-mock","stream":true,"messages":[{"role":"user","content":"\#(message)"}]}"#)
            return self.exchange(.mock) { connection in
                connection.send(method: .POST, uri: "/v1/chat/completions", body: body, contentType: "application/json",
                                reading: .stream(.openAI), keepGaps: keepGaps)
            }.map { record in
                var result = TurnResult(start: start)
                result.take(record)
                return result
            }
        }
    }

    /// A turn through Paliadin: `POST /api/paliadin/turn`, then `GET` its `sse_url` to the end.
    func through(message: String, session: String, keepGaps: Bool = false) -> EventLoopFuture<TurnResult> {
        eventLoop.flatSubmit {
            let start = BenchClock.now()
            return self.postTurn(message: message, session: session).flatMap { post in
                var result = TurnResult(start: start)
                result.postAnswered = post.finished
                result.bytes = post.bytes
                guard post.failure == nil else {
                    result.failure = "POST: \(post.failure!)"
                    return self.eventLoop.makeSucceededFuture(result)
                }
                guard let url = Self.sseURL(post.body) else {
                    result.failure = "POST: no sse_url"
                    return self.eventLoop.makeSucceededFuture(result)
                }
                return self.exchange(.paliadin) { connection in
                    connection.send(method: .GET, uri: url, reading: .stream(.paliadin), keepGaps: keepGaps)
                }.map { [result] record in
                    var whole = result
                    whole.take(record)
                    return whole
                }
            }
        }
    }

    /// A turn through Paliadin in one request: `POST /api/paliadin/turn` with
    /// `Accept: text/event-stream`, whose answer is the turn's stream, read to the `end` event.
    func throughOneRequest(message: String, session: String) -> EventLoopFuture<TurnResult> {
        eventLoop.flatSubmit {
            let start = BenchClock.now()
            let body = ByteBuffer(string: #"{"user_message":"\#(message)","session_id":"\#(session)"}"#)
            return self.exchange(.paliadin) { connection in
                connection.send(
                    method: .POST, uri: "/api/paliadin/turn", body: body, contentType: "application/json", reading: .stream(.paliadin))
            }.map { record in
                var result = TurnResult(start: start)
                result.take(record)
                // The answer's head is where the two-request path has its POST answer.
                result.postAnswered = record.head
                return result
            }
        }
    }

    /// Only `POST /api/paliadin/turn` (the stream is not opened).
    func post(message: String, session: String) -> EventLoopFuture<TurnResult> {
        eventLoop.flatSubmit {
            let start = BenchClock.now()
            return self.postTurn(message: message, session: session).map { post in
                var result = TurnResult(start: start)
                result.postAnswered = post.finished
                result.finished = post.finished
                result.bytes = post.bytes
                result.failure = post.failure ?? (Self.sseURL(post.body) == nil ? "no sse_url" : nil)
                return result
            }
        }
    }

    /// Closes the connections kept.
    func close() {
        eventLoop.execute {
            for connection in self.slots.value { connection?.close() }
            self.slots.value = [nil, nil]
        }
    }

    private func postTurn(message: String, session: String) -> EventLoopFuture<ProbeRecord> {
        let body = ByteBuffer(string: #"{"user_message":"\#(message)","session_id":"\#(session)"}"#)
        return exchange(.paliadin) { connection in
            connection.send(method: .POST, uri: "/api/paliadin/turn", body: body, contentType: "application/json", reading: .body)
        }
    }

    /// Runs one request on the slot's connection (opened when there is none), and keeps the
    /// connection for the next one when the response allows it. On the event loop.
    private func exchange(_ slot: Slot, _ request: @escaping @Sendable (HTTPConnection) -> EventLoopFuture<ProbeRecord>) -> EventLoopFuture<ProbeRecord> {
        let connected: EventLoopFuture<HTTPConnection>
        if let kept = slots.value[slot.rawValue], kept.channel.isActive {
            slots.value[slot.rawValue] = nil
            connected = eventLoop.makeSucceededFuture(kept)
        } else {
            connected = HTTPConnection.connect(port: slot == .mock ? mockPort : paliadinPort, on: eventLoop)
        }
        return connected.flatMap { connection in
            request(connection).map { record in
                if record.failure == nil, record.keepAlive, connection.channel.isActive, self.slots.value[slot.rawValue] == nil {
                    self.slots.value[slot.rawValue] = connection
                } else {
                    connection.close()
                }
                return record
            }
        }.flatMapErrorThrowing { error in
            var record = ProbeRecord()
            record.failure = "connect failed: \(error)"
            return record
        }
    }

    /// The `sse_url` of a `POST /api/paliadin/turn` answer, found without a JSON decoder.
    static func sseURL(_ body: ByteBuffer?) -> String? {
        guard let body, let text = body.getString(at: body.readerIndex, length: body.readableBytes),
            let key = text.range(of: #""sse_url""#),
            let open = text[key.upperBound...].firstIndex(of: "\"")
        else { return nil }
        let rest = text[text.index(after: open)...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<close]).replacing("\\/", with: "/")
    }
}
