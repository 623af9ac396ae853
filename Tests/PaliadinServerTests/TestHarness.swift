import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import PaliadinCore
import PaliadinServer
import PaliadinStore
import PaliadinTestSupport

/// A Paliadin app on a temporary SQLite file, wired to an in-process mock upstream.
struct TestHarness {
    static let owner = "owner@example.com"
    static let otherOwner = "second@example.com"
    static let stranger = "stranger@example.com"

    let configuration: AppConfiguration
    let store: SQLiteTurnStore
    let ownerToken: String
    let otherOwnerToken: String
    let strangerToken: String

    /// Runs `body` against a live server. `configure` adjusts the configuration first.
    static func withLiveServer(
        upstream: MockOpenAIUpstream = MockOpenAIUpstream(),
        configure: @Sendable (inout AppConfiguration) -> Void = { _ in },
        prepare: @Sendable (SQLiteTurnStore) async throws -> Void = { _ in },
        logger: Logger? = nil,
        _ body: @Sendable (TestHarness, LiveClient) async throws -> Void
    ) async throws {
        try await upstream.run { baseURL in
            let harness = try await make(backendURL: baseURL, configure: configure)
            try await prepare(harness.store)
            let logger = logger ?? {
                var logger = Logger(label: "paliadin-test")
                logger.logLevel = .warning
                return logger
            }()
            let app = try await buildApplication(harness.configuration, logger: logger)
            try await app.test(.live) { client in
                try await body(harness, LiveClient(port: client.port!, harness: harness))
            }
        }
    }

    static func make(backendURL: String, configure: (inout AppConfiguration) -> Void) async throws -> TestHarness {
        var configuration = AppConfiguration()
        configuration.port = 0
        configuration.backendURL = backendURL
        configuration.databasePath = FileManager.default.temporaryDirectory
            .appendingPathComponent("paliadin-test-\(UUID().uuidString)").appendingPathComponent("paliadin.sqlite").path
        configuration.owners = [owner, otherOwner]
        // Tests start many turns quickly as one user; the limit tests turn limits back on.
        configuration.engine.userLimits = .none
        configuration.engine.timing = TurnTimingPolicy(
            silenceLimit: .seconds(5), thinkingInterval: .seconds(1), streamingDeadline: .seconds(60), oneShotDeadline: .seconds(60))
        configure(&configuration)
        let store = try SQLiteTurnStore(path: configuration.databasePath)
        try await store.migrate()
        func token(_ user: String) async throws -> String {
            let token = TokenHasher.newToken()
            try await store.insertToken(
                StoredToken(id: UUID().uuidString, userID: user, hash: TokenHasher.hash(token), label: "test", createdAt: Date()))
            return token
        }
        return TestHarness(
            configuration: configuration, store: store, ownerToken: try await token(owner),
            otherOwnerToken: try await token(otherOwner), strangerToken: try await token(stranger))
    }
}

/// One SSE frame as a client saw it.
struct ReceivedEvent: Equatable, Sendable {
    var id: Int?
    var name: String
    var data: String

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
    }

    var isTerminal: Bool { name == "end" || name == "error" }
}

/// A real HTTP client (AsyncHTTPClient) against the live server.
struct LiveClient: Sendable {
    let port: Int
    let harness: TestHarness

    var base: String { "http://127.0.0.1:\(port)" }

    struct Reply: Sendable {
        var status: Int
        var body: String
        var headers: [String: String]

        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    }

    func request(_ method: HTTPMethod, _ path: String, token: String? = nil, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), body: String(buffer: buffer), headers: headers)
    }

    /// Starts a turn as the owner; returns its id.
    func startTurn(_ message: String, session: String = "s1", token: String? = nil) async throws -> String {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["user_message": message, "session_id": session]), as: UTF8.self)
        let reply = try await request(.POST, "/api/paliadin/turn", token: token ?? harness.ownerToken, body: body)
        guard reply.status == 200, let id = reply.object["turn_id"] as? String else {
            throw TestFailure("start turn answered \(reply.status): \(reply.body)")
        }
        return id
    }

    /// Reads a turn's stream until its last event, or until `stop` says so (then the connection is dropped).
    func stream(
        _ turnID: String, query: String = "", lastEventID: Int? = nil, token: String? = nil, untilClosed: Bool = false,
        stop: @Sendable ([ReceivedEvent]) -> Bool = { _ in false }
    ) async throws -> (events: [ReceivedEvent], headers: [String: String], status: Int) {
        var request = HTTPClientRequest(url: base + "/api/paliadin/stream/\(turnID)\(query)")
        request.headers.add(name: "Authorization", value: "Bearer \(token ?? harness.ownerToken)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        var events: [ReceivedEvent] = []
        var parser = ServerSentEventParser()
        reading: for try await buffer in response.body {
            for item in try parser.feed(buffer.readableBytesView) {
                guard case .event(let event) = item else { continue }
                events.append(ReceivedEvent(id: event.id.flatMap(Int.init), name: event.name ?? "message", data: event.data))
                if (events.last!.isTerminal && !untilClosed) || stop(events) { break reading }
            }
        }
        return (events, headers, Int(response.status.code))
    }

    /// Polls the turn row until it is no longer running.
    func waitUntilFinished(_ turnID: String) async throws -> [String: Any] {
        for _ in 0..<400 {
            let reply = try await request(.GET, "/api/paliadin/turn/\(turnID)", token: harness.ownerToken)
            if reply.object["status"] as? String != "running" { return reply.object }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw TestFailure("turn \(turnID) did not finish")
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Array where Element == ReceivedEvent {
    /// The answer the content events add up to.
    var text: String {
        filter { $0.name == "content" }.map { ($0.json["delta"] as? String) ?? ($0.json["text"] as? String) ?? "" }.joined()
    }

    /// Events without keep-alives.
    var withoutPings: [ReceivedEvent] { filter { $0.name != "ping" } }
}
