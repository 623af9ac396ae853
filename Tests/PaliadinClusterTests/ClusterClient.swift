import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PaliadinCore

/// One SSE frame as a test client saw it.
struct SeenEvent: Sendable {
    var id: Int?
    var name: String
    var data: String
    /// When the client got it.
    var at: ContinuousClock.Instant

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:] }
    var isTerminal: Bool { name == "end" || name == "error" }
    var errorCode: String? { name == "error" ? json["code"] as? String : nil }
}

extension Array where Element == SeenEvent {
    /// The answer the content events add up to.
    var text: String { filter { $0.name == "content" }.map { ($0.json["delta"] as? String) ?? ($0.json["text"] as? String) ?? "" }.joined() }
    var contentCount: Int { filter { $0.name == "content" }.count }
}

/// Plain HTTP calls to one instance, in dev mode (no credentials from loopback).
struct ClusterClient: Sendable {
    let base: String

    struct Reply: Sendable {
        var status: Int
        var body: String
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    func request(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: buffer))
    }

    /// Starts a turn; returns its id.
    func startTurn(_ message: String, session: String = "cluster") async throws -> String {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["user_message": message, "session_id": session]), as: UTF8.self)
        let reply = try await request(.POST, "/api/paliadin/turn", body: body)
        guard reply.status == 200, let id = reply.object["turn_id"] as? String else {
            throw ClusterTestFailure("start turn on \(base) answered \(reply.status): \(reply.body)")
        }
        return id
    }

    /// Reads a turn's stream until its last event, or until `stop` says so (the connection is then dropped).
    func stream(_ turnID: String, lastEventID: Int? = nil, stop: @Sendable ([SeenEvent]) -> Bool = { _ in false }) async throws -> [SeenEvent] {
        var request = HTTPClientRequest(url: base + "/api/paliadin/stream/\(turnID)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        guard response.status == .ok else { throw ClusterTestFailure("stream on \(base) answered \(response.status.code)") }
        var events: [SeenEvent] = []
        var parser = ServerSentEventParser()
        reading: for try await buffer in response.body {
            let now = ContinuousClock.now
            for item in try parser.feed(buffer.readableBytesView) {
                guard case .event(let event) = item else { continue }
                events.append(SeenEvent(id: event.id.flatMap(Int.init), name: event.name ?? "message", data: event.data, at: now))
                if events.last!.isTerminal || stop(events) { break reading }
            }
        }
        return events
    }

    /// The turn's row as `GET /api/paliadin/turn/{id}` shows it.
    func turn(_ turnID: String) async throws -> [String: Any] {
        let reply = try await request(.GET, "/api/paliadin/turn/\(turnID)")
        guard reply.status == 200 else { throw ClusterTestFailure("turn on \(base) answered \(reply.status): \(reply.body)") }
        return reply.object
    }
}
