import AsyncHTTPClient
import PaliadinCore

/// The backend events found in one read from a streaming backend, in order: adjacent content
/// joined into one chunk (up to `maxJoinedBytes`), adjacent heartbeats made one.
struct ArrivedEvents {
    private(set) var events: [BackendEvent] = []

    /// The most text joined into one chunk: a fast backend's burst becomes a few events, not
    /// one event of megabytes that every reader, row and SSE line would have to hold at once.
    static let maxJoinedBytes = 64 * 1024

    mutating func append(_ event: BackendEvent) {
        switch (event, events.last) {
        case (.heartbeat, .heartbeat?):
            return
        case (.chunk(let text), .chunk(var joined)?) where joined.utf8.count + text.utf8.count <= Self.maxJoinedBytes:
            // Taken out of the array first, so the text is appended in place (a read can hold
            // thousands of tiny chunks).
            events.removeLast()
            joined += text
            events.append(.chunk(joined))
        default:
            events.append(event)
        }
    }

    /// True once any content has arrived.
    var holdsContent: Bool {
        events.contains { if case .chunk = $0 { true } else { false } }
    }

    /// Hands over the events gathered so far and starts afresh.
    mutating func takeAll() -> [BackendEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// How many items are decoded between two chances for other tasks to run: a burst of
    /// thousands must not hold a thread while other turns wait for theirs.
    static let yieldEvery = 64

    /// Passes on what one read held. The first content goes on as soon as it is decoded, so
    /// readers are not kept waiting while the rest of a large read is decoded; the content
    /// after it goes on joined: a burst of tokens costs two events downstream, not one per
    /// token, and the text is the same. What came before a failure is passed on before it.
    ///
    /// - Parameter interpret: turns one item into events; returns true when the stream is complete.
    static func relay(
        _ items: [ServerSentEventParser.Item], events: @Sendable (BackendEvent) async -> Void,
        interpret: (ServerSentEventParser.Item, inout ArrivedEvents) throws -> Bool
    ) async throws {
        var arrived = ArrivedEvents()
        var sentFirstContent = false
        do {
            for (index, item) in items.enumerated() {
                if try interpret(item, &arrived) { break }
                if !sentFirstContent, arrived.holdsContent {
                    sentFirstContent = true
                    for event in arrived.takeAll() { await events(event) }
                    // Let the readers it woke (and other turns) run before the rest is decoded.
                    await Task.yield()
                } else if index % yieldEvery == yieldEvery - 1 {
                    await Task.yield()
                }
            }
        } catch {
            for event in arrived.events { await events(event) }
            throw error
        }
        for event in arrived.events { await events(event) }
    }

    /// Reads a streaming response body as Server-Sent Events to its end and relays what each
    /// read of the stream brings (see `relay` and `UpstreamStream`), until `interpret` says
    /// the stream is complete. A line over the limit, or a body that breaks, becomes
    /// `upstream_error` (nothing that arrived before is lost); cancellation stays cancellation.
    static func relayStream(
        _ body: UpstreamStream, maxLineLength: Int, events: @Sendable (BackendEvent) async -> Void,
        interpret: (ServerSentEventParser.Item, inout ArrivedEvents) throws -> Bool
    ) async throws {
        var parser = ServerSentEventParser(maxLineLength: maxLineLength)
        var complete = false
        let step: (ServerSentEventParser.Item, inout ArrivedEvents) throws -> Bool = { item, arrived in
            complete = try interpret(item, &arrived)
            return complete
        }
        do {
            while let reads = try await body.nextReads() {
                var items: [ServerSentEventParser.Item] = []
                for buffer in reads {
                    items += try buffer.withUnsafeReadableBytes { try parser.feed(buffer: $0) }
                }
                try await relay(items, events: events, interpret: step)
                if complete {
                    body.close()
                    return
                }
            }
            try await relay(parser.finish(), events: events, interpret: step)
        } catch let failure as BackendFailure {
            body.close()
            throw failure
        } catch let error as ServerSentEventParser.LineTooLong {
            body.close()
            throw BackendFailure(
                code: TurnErrorCode.upstreamError, message: "the backend sent a line longer than \(error.limit) bytes", retryable: false)
        } catch {
            body.close()
            try Task.checkCancellation()
            throw BackendFailure(code: TurnErrorCode.upstreamError, message: "the backend's stream broke: \(error)", retryable: true)
        }
    }
}
