import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PaliadinCore
import PaliadinEngine
import PaliadinStore
import ServiceLifecycle

/// The chat API: start, stream, read, recover and cancel turns; history; reset.
struct TurnController {
    typealias Context = PaliadinRequestContext
    let supervisor: TurnSupervisor
    let store: any TurnStore
    let configuration: AppConfiguration
    /// Closes streams whose reader stopped taking data.
    let streams: StalledStreamMonitor
    /// Open readers and resumes are counted here.
    let metrics: ServerMetrics
    let recovery: RecoveryRule

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("turn", use: startTurn)
        group.get("stream/{id}", use: stream)
        group.get("turn/{id}", use: turn)
        group.get("turn/{id}/recover", use: recover)
        group.post("turn/{id}/cancel", use: cancel)
        group.get("history", use: history)
        group.post("reset", use: reset)
    }

    /// `POST /api/paliadin/turn`: `{turn_id, sse_url}`; or, when the client accepts only
    /// `text/event-stream`, the turn's stream itself (its id in `X-Paliadin-Turn-ID`): one
    /// request instead of two, for clients that can stream a POST (not `EventSource`).
    @Sendable func startTurn(request: Request, context: Context) async throws -> Response {
        let user = try context.requireIdentity()
        let body = try await decodeBody(request)
        if let field = body.fieldWithNUL { throw APIError(.badRequest, "\(field) must not contain NUL characters") }
        guard let message = body.userMessage, !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError(.badRequest, "user_message required")
        }
        var sessionID = body.sessionID?.trimmingCharacters(in: .whitespaces) ?? ""
        if sessionID.isEmpty { sessionID = UUID().uuidString.lowercased() }
        guard sessionID.count <= TurnRequestBody.maxSessionIDLength else {
            throw APIError(.badRequest, "session_id is longer than \(TurnRequestBody.maxSessionIDLength) characters")
        }
        if let context = body.context, context.depth > TurnRequestBody.maxContextDepth {
            throw APIError(.badRequest, "context nests deeper than \(TurnRequestBody.maxContextDepth) levels")
        }
        var pageOrigin = body.pageOrigin?.trimmingCharacters(in: .whitespaces)
        if pageOrigin?.isEmpty ?? true { pageOrigin = body.context?["page_origin"]?.stringValue }
        guard (pageOrigin?.count ?? 0) <= TurnRequestBody.maxPageOriginLength else {
            throw APIError(.badRequest, "page_origin is longer than \(TurnRequestBody.maxPageOriginLength) characters")
        }
        let record: TurnRecord
        do {
            record = try await supervisor.startTurn(
                NewTurn(
                    userID: user.id, sessionID: sessionID, userMessage: message, pageOrigin: pageOrigin, context: body.context,
                    backendName: body.backend.flatMap { $0.isEmpty ? nil : $0 }))
        } catch EngineError.shuttingDown {
            throw APIError(.serviceUnavailable, "Paliadin is shutting down; try again shortly", headers: [.retryAfter: "5"])
        } catch EngineError.tooManyTurnsPerMinute(let limit, let wait) {
            let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
            throw APIError(
                .tooManyRequests, "too many turns: at most \(limit) a minute; try again in \(seconds) s",
                headers: [.retryAfter: String(seconds)])
        } catch EngineError.tooManyRunningTurns(let limit) {
            throw APIError(
                .tooManyRequests, "too many turns running: at most \(limit) at once; wait for one to end",
                headers: [.retryAfter: "2"])
        } catch EngineError.unknownBackend(let name) {
            throw APIError(
                .badRequest, "unknown backend '\(name.prefix(100))'; configured: \(supervisor.backends.names.joined(separator: ", "))")
        }
        if Self.wantsEventStream(request) {
            supervisor.noteReader(of: record.id, resumed: false)
            return eventStream(
                of: record.id, from: 0, channel: context.channel, headers: [HTTPField.Name("X-Paliadin-Turn-ID")!: record.id.description])
        }
        return try StartedTurn(turnID: record.id.description, sseURL: "/api/paliadin/stream/\(record.id)")
            .response(from: request, context: context)
    }

    /// True when the client asked for an event stream and not for JSON.
    static func wantsEventStream(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept]?.lowercased() else { return false }
        return accept.contains("text/event-stream") && !accept.contains("json")
    }

    /// `GET /api/paliadin/stream/{id}`: the turn's events as Server-Sent Events, from
    /// `Last-Event-ID` or `?after=N` on; a finished turn replays and closes.
    @Sendable func stream(request: Request, context: Context) async throws -> Response {
        let (turnID, finished) = try await ownedTurnForStream(request, context)
        let after = try resumePoint(request)
        var start = after
        if finished, let last = try await store.lastEvent(of: turnID), last.seq <= after {
            // The reader already has the whole of a finished turn: 204 tells an EventSource to stop reconnecting.
            if last.seq == after { return Response(status: .noContent) }
            // The reader saw events the store never got (the process died before writing
            // them): it still gets the turn's last event, so it learns how the turn ended.
            start = last.seq - 1
        }
        supervisor.noteReader(of: turnID, resumed: after > 0)
        if after > 0 { metrics.resumes.increment() }
        return eventStream(of: turnID, from: start, channel: context.channel)
    }

    /// The turn's events after `readFrom` as Server-Sent Events, until its last event. A
    /// reader that takes no data for the stalled-reader timeout has `channel` closed.
    private func eventStream(of turnID: TurnID, from readFrom: Int, channel: any Channel, headers extra: HTTPFields = [:]) -> Response {
        let supervisor = self.supervisor
        let streams = self.streams
        let readersOpen = metrics.readersOpen
        let retry = configuration.sseRetryMS
        var headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache, no-transform",
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        headers.append(contentsOf: extra)
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                // The connection stays open for the client's next request once the turn ends. A
                // client that leaves mid-stream is noticed at the next write (an event, or at
                // the latest the next ping), which fails and ends this handler.
                let watch = streams.watch(channel)
                readersOpen.increment()
                defer {
                    streams.release(watch)
                    readersOpen.decrement()
                }
                var reader = supervisor.reader(for: turnID, after: readFrom)
                // The retry hint and whatever the turn has already said go out in one write.
                var opening = ByteBuffer(string: "retry: \(retry)\n\n")
                opening.writeImmutableBuffer(SSEFrame.encode(reader.takeReady()))
                try await watch.write(bytes: opening.readableBytes) { try await writer.write(opening) }
                try await withGracefulShutdownHandler {
                    // Only the encoded frame lives through the write: a reader that stopped
                    // reading holds one frame, not the events as well.
                    while let frame = try await reader.next().map(SSEFrame.encode) {
                        try await watch.write(bytes: frame.readableBytes) { try await writer.write(frame) }
                    }
                } onGracefulShutdown: {
                    supervisor.beginShutdown()
                }
                try await writer.finish(nil)
            })
    }

    /// `GET /api/paliadin/turn/{id}`
    @Sendable func turn(request: Request, context: Context) async throws -> TurnView {
        TurnView(try await ownedTurn(request, context))
    }

    /// `GET /api/paliadin/turn/{id}/recover`
    @Sendable func recover(request: Request, context: Context) async throws -> TurnView {
        let record = try await ownedTurn(request, context)
        let state = recovery.state(status: record.status, response: record.response, startedAt: record.startedAt, now: Date())
        return TurnView(record, recoveryState: state)
    }

    /// `POST /api/paliadin/turn/{id}/cancel`
    @Sendable func cancel(request: Request, context: Context) async throws -> Response {
        let record = try await ownedTurn(request, context)
        guard record.status == .running else {
            throw APIError(.conflict, "the turn already ended (\(record.status.rawValue))")
        }
        // Here at once; in another instance sharing the database through it.
        guard try await supervisor.requestStop(record.id) else {
            throw APIError(.conflict, "the turn is not running in this process")
        }
        return try jsonResponse(["ok": true], status: .accepted)
    }

    /// `GET /api/paliadin/history?session=&limit=`
    @Sendable func history(request: Request, context: Context) async throws -> [TurnView] {
        let user = try context.requireIdentity()
        let session = request.uri.queryParameters.get("session")?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !session.isEmpty else { return [] }
        var limit = 50
        if let raw = request.uri.queryParameters.get("limit"), let value = Int(raw), value > 0 {
            limit = min(value, 200)
        }
        return try await store.history(userID: user.id, sessionID: session, limit: limit).map { TurnView($0) }
    }

    /// `POST /api/paliadin/reset`: the next turn starts a fresh conversation.
    @Sendable func reset(request: Request, context: Context) async throws -> OKResponse {
        let user = try context.requireIdentity()
        try await store.resetConversation(userID: user.id, at: Date())
        return OKResponse(ok: true)
    }

    // MARK: - Helpers

    private func decodeBody(_ request: Request) async throws -> TurnRequestBody {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        do {
            return try JSONDecoder().decode(TurnRequestBody.self, from: Data(buffer: buffer))
        } catch {
            throw APIError.invalidJSON
        }
    }

    /// The turn named in the path, if the caller owns it; 400 for a malformed id, 404 otherwise.
    private func ownedTurn(_ request: Request, _ context: Context) async throws -> TurnRecord {
        let user = try context.requireIdentity()
        guard let text = context.parameters.get("id"), let id = TurnID(text) else { throw APIError.invalidTurnID }
        guard let record = try await store.turn(id), record.userID == user.id else { throw APIError.notFound }
        return record
    }

    /// The turn named in the path, if the caller owns it, and whether it has ended. A turn
    /// running here is checked in memory; others in the store.
    private func ownedTurnForStream(_ request: Request, _ context: Context) async throws -> (TurnID, finished: Bool) {
        let user = try context.requireIdentity()
        guard let text = context.parameters.get("id"), let id = TurnID(text) else { throw APIError.invalidTurnID }
        if let entry = supervisor.hub.entry(for: id) {
            guard entry.userID == user.id else { throw APIError.notFound }
            return (id, false)
        }
        let record = try await ownedTurn(request, context)
        return (record.id, record.status.isFinal)
    }

    /// Where a reader resumes: `Last-Event-ID` (sent by a reconnecting EventSource), else `?after=N`, else 0.
    private func resumePoint(_ request: Request) throws -> Int {
        if let header = request.headers[HTTPField.Name("Last-Event-ID")!]?.trimmingCharacters(in: .whitespaces), !header.isEmpty {
            guard let value = Int(header), value >= 0 else { throw APIError(.badRequest, "Last-Event-ID must be an event number") }
            return value
        }
        if let raw = request.uri.queryParameters.get("after") {
            guard let value = Int(raw), value >= 0 else { throw APIError(.badRequest, "after must be an event number") }
            return value
        }
        return 0
    }
}

/// A small JSON response with a status other than 200.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
    Response(
        status: status, headers: [.contentType: "application/json; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(string: PayloadCoding.encode(value))))
}
