import AsyncHTTPClient
import PaliadinCore

/// The backend events found in one read from a streaming backend, in order: adjacent content
/// joined into one chunk, adjacent heartbeats made one.
struct ArrivedEvents {
    private(set) var events: [BackendEvent] = []

    mutating func append(_ event: BackendEvent) {
        switch (event, events.last) {
        case (.heartbeat, .heartbeat?):
            return
        case (.chunk(let text), .chunk(var joined)?):
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
            for item in items {
                if try interpret(item, &arrived) { break }
                if !sentFirstContent, arrived.holdsContent {
                    sentFirstContent = true
                    for event in arrived.takeAll() { await events(event) }
                }
            }
        } catch {
            for event in arrived.events { await events(event) }
            throw error
        }
        for event in arrived.events { await events(event) }
    }

    /// Reads a streaming response body as Server-Sent Events to its end and relays each read
    /// (see `relay`), until `interpret` says the stream is complete. A line over the
    /// limit, or a body that breaks, becomes `upstream_error` (nothing that arrived before is
    /// lost); cancellation stays cancellation.
    static func relayStream(
        _ body: HTTPClientResponse.Body, maxLineLength: Int, events: @Sendable (BackendEvent) async -> Void,
        interpret: (ServerSentEventParser.Item, inout ArrivedEvents) throws -> Bool
    ) async throws {
        var parser = ServerSentEventParser(maxLineLength: maxLineLength)
        var complete = false
        let step: (ServerSentEventParser.Item, inout ArrivedEvents) throws -> Bool = { item, arrived in
            complete = try interpret(item, &arrived)
            return complete
        }
        do {
            for try await buffer in body {
                let items = try buffer.withUnsafeReadableBytes { try parser.feed(buffer: $0) }
                try await relay(items, events: events, interpret: step)
                if complete { return }
            }
            try await relay(parser.finish(), events: events, interpret: step)
        } catch let failure as BackendFailure {
            throw failure
        } catch let error as ServerSentEventParser.LineTooLong {
            throw BackendFailure(
                code: TurnErrorCode.upstreamError, message: "the backend sent a line longer than \(error.limit) bytes", retryable: false)
        } catch {
            try Task.checkCancellation()
            throw BackendFailure(code: TurnErrorCode.upstreamError, message: "the backend's stream broke: \(error)", retryable: true)
        }
    }
}
