import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PaliadinCore

/// The chat routes of a Paliadin server, over AsyncHTTPClient. Every failure is a
/// `ChatClientError` (or `CancellationError` when the calling task is cancelled).
public struct PaliadinAPI: Sendable {
    /// What opening a turn's stream gave.
    public enum StreamOpening: Sendable {
        /// 200: the events, as the body arrives.
        case events(HTTPClientResponse.Body)
        /// 204: the reader already has every event of the finished turn.
        case complete
    }

    /// The client the requests go through (owned by the caller, who shuts it down).
    public let httpClient: HTTPClient
    /// Server, token and timeouts.
    public let configuration: ChatConfiguration

    /// The API of `configuration.server`, through `httpClient`.
    public init(httpClient: HTTPClient, configuration: ChatConfiguration) {
        self.httpClient = httpClient
        self.configuration = configuration
    }

    /// `POST /api/paliadin/turn`: starts a turn in `sessionID` (with the configured backend).
    public func startTurn(message: String, sessionID: String) async throws -> StartedTurn {
        let body = TurnRequest(userMessage: message, sessionID: sessionID, backend: configuration.backend)
        let reply = try await send(.POST, "/api/paliadin/turn", body: ByteBuffer(bytes: try JSONEncoder().encode(body)))
        guard reply.status == 200 else { throw failure(reply, turnID: nil) }
        return try reply.decode(StartedTurn.self)
    }

    /// `GET /api/paliadin/stream/{id}` with `Last-Event-ID: lastEventID` when given. Throws
    /// `ChatClientError` for an answer other than 200 or 204 (`isRetryableOnStream` tells
    /// whether trying again may help).
    public func openStream(turnID: String, after lastEventID: Int?) async throws -> StreamOpening {
        var request = makeRequest(.GET, "/api/paliadin/stream/\(turnID)")
        request.headers.replaceOrAdd(name: "Accept", value: "text/event-stream")
        request.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        if let lastEventID { request.headers.replaceOrAdd(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await execute(request)
        switch response.status.code {
        case 200: return .events(response.body)
        case 204: return .complete
        default:
            let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
            throw failure(Reply(status: Int(response.status.code), headers: response.headers, body: body), turnID: turnID)
        }
    }

    /// `GET /api/paliadin/turn/{id}`: the turn's row.
    public func turn(_ turnID: String) async throws -> TurnSummary {
        let reply = try await send(.GET, "/api/paliadin/turn/\(turnID)")
        guard reply.status == 200 else { throw failure(reply, turnID: turnID) }
        return try reply.decode(TurnSummary.self)
    }

    /// What the server said to a cancel.
    public enum CancelAnswer: Sendable, Equatable {
        /// 200 or 202: the turn is being stopped.
        case stopping
        /// 409: the server has nothing to stop (the turn had already ended); its message.
        case refused(String)
    }

    /// `POST /api/paliadin/turn/{id}/cancel`, waiting at most `timeout` for the answer (the
    /// configured request timeout when nil).
    @discardableResult
    public func cancel(_ turnID: String, timeout: Duration? = nil) async throws -> CancelAnswer {
        let reply = try await send(.POST, "/api/paliadin/turn/\(turnID)/cancel", timeout: timeout)
        switch reply.status {
        case 200, 202: return .stopping
        case 409: return .refused(reply.message)
        default: throw failure(reply, turnID: turnID)
        }
    }

    /// `GET /api/paliadin/history?session=&limit=`: the session's latest turns (at most
    /// `limit`), oldest first.
    public func history(sessionID: String, limit: Int = 50) async throws -> [TurnSummary] {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "session", value: sessionID), URLQueryItem(name: "limit", value: String(limit))]
        let query = components.percentEncodedQuery ?? ""
        let reply = try await send(.GET, "/api/paliadin/history?\(query)")
        guard reply.status == 200 else { throw failure(reply, turnID: nil) }
        return try reply.decode([TurnSummary].self)
    }

    // MARK: - Requests

    /// The body of `POST /api/paliadin/turn`.
    private struct TurnRequest: Encodable {
        let userMessage: String
        let sessionID: String
        let backend: String?

        enum CodingKeys: String, CodingKey {
            case userMessage = "user_message"
            case sessionID = "session_id"
            case backend
        }
    }

    /// A whole answer.
    private struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: ByteBuffer

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                return try JSONDecoder().decode(type, from: Data(body.readableBytesView))
            } catch {
                throw ChatClientError.unexpectedResponse(status: status, message: "not the JSON expected: \(String(buffer: body).prefix(200))")
            }
        }

        /// The server's `{"error": "..."}` message, else the start of the body.
        var message: String {
            struct ErrorBody: Decodable { let error: String }
            if let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(body.readableBytesView)) { return decoded.error }
            let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? HTTPResponseStatus(statusCode: status).reasonPhrase : String(text.prefix(200))
        }
    }

    /// The error for an unwanted status; `turnID` names the turn of a turn route.
    private func failure(_ reply: Reply, turnID: String?) -> ChatClientError {
        let server = configuration.server
        switch reply.status {
        case 401: return .unauthorized(server: server)
        case 404: return turnID.map { .turnNotFound(turnID: $0) } ?? .notOwner(server: server)
        case 429:
            return .rateLimited(message: reply.message, retryAfterSeconds: reply.headers.first(name: "Retry-After").flatMap { Int($0) })
        case 503: return .unavailable(server: server, message: reply.message)
        case 400, 413: return .rejected(status: reply.status, message: reply.message)
        default: return .unexpectedResponse(status: reply.status, message: reply.message)
        }
    }

    private func makeRequest(_ method: HTTPMethod, _ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.server + path)
        request.method = method
        if let token = configuration.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        return request
    }

    /// Sends a request and reads its whole answer.
    private func send(_ method: HTTPMethod, _ path: String, body json: ByteBuffer? = nil, timeout: Duration? = nil) async throws -> Reply {
        var request = makeRequest(method, path)
        request.headers.add(name: "Accept", value: "application/json")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(json)
        }
        let response = try await execute(request, timeout: timeout)
        let body: ByteBuffer
        do {
            body = try await response.body.collect(upTo: 32 << 20)
        } catch {
            throw transportError(error)
        }
        return Reply(status: Int(response.status.code), headers: response.headers, body: body)
    }

    /// Executes a request, waiting at most `timeout` (else the configured request timeout) for
    /// the head of the answer; a failure to get one becomes `unreachable`.
    private func execute(_ request: HTTPClientRequest, timeout: Duration? = nil) async throws -> HTTPClientResponse {
        do {
            return try await httpClient.execute(request, timeout: Self.timeAmount(timeout ?? configuration.requestTimeout))
        } catch {
            throw transportError(error)
        }
    }

    private func transportError(_ error: any Error) -> any Error {
        if Task.isCancelled || error is CancellationError { return CancellationError() }
        return ChatClientError.unreachable(server: configuration.server, detail: TransportErrorDescription.describe(error))
    }

    /// A `Duration` as NIO's `TimeAmount`.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
