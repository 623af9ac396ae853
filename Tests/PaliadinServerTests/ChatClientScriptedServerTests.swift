import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PaliadinClient
import Synchronization
import Testing

/// The terminal client against a scripted server: streams the real server does not send on
/// demand (a line over the client's limit, a replay after a crash, a frame with a lower id).
@Suite("paliadin chat: the client against a scripted server", .timeLimit(.minutes(1)))
struct ChatClientScriptedServerTests {
    @Test("a one-shot answer on one line far over 1 MiB is read whole")
    func longLine() async throws {
        let text = String(repeating: "y", count: 3 << 20)
        let server = ScriptedChatServer { _, _ in
            ScriptedChatServer.frames([(1, "meta", "{}"), (2, "content", #"{"text":"\#(text)"}"#), (3, "end", "{}")])
        }
        let (result, output) = try await server.ask()
        #expect(result.ending == .completed)
        #expect(output.standardOutput == text + "\n")
        #expect(server.streamRequests == 1)
    }

    @Test("a line over the client's limit: exit 76 at once, with a clear message, no retry")
    func lineOverLimit() async throws {
        let server = ScriptedChatServer { _, _ in
            ScriptedChatServer.frames([(1, "meta", "{}"), (2, "content", #"{"text":"\#(String(repeating: "z", count: 4096))"}"#)])
        }
        let (result, output) = try await server.ask { $0.maxStreamLineLength = 1024 }
        #expect(result.ending == .clientError(.malformedStream(turnID: "t-1", detail: "it has a line longer than 1 KiB")))
        #expect(result.exitCode.rawValue == 76)
        #expect(server.streamRequests == 1, "not retried")
        #expect(output.standardError.contains("cannot read the stream of turn t-1: it has a line longer than 1 KiB"))
    }

    @Test("a stream that brings only what the reader has, then ends: the row tells the turn has ended")
    func onlyReplaysAskTheRow() async throws {
        let server = ScriptedChatServer(
            row: #"{"turn_id":"t-1","status":"completed","response":"Hel"}"#
        ) { number, lastEventID in
            if number == 0 { return ScriptedChatServer.frames([(1, "meta", "{}"), (2, "content", #"{"delta":"Hel"}"#)]) }
            // After a crash, the server replays its last stored event, and has no end to send.
            #expect(lastEventID == 2)
            return ScriptedChatServer.frames([(2, "content", #"{"delta":"Hel"}"#)])
        }
        let (result, output) = try await server.ask()
        #expect(result.ending == .completed)
        #expect(output.standardOutput == "Hel\n")
        #expect(server.streamRequests == 2)
        #expect(server.rowRequests == 1)
        #expect(result.resumes == 1)
    }

    @Test("the frame that closes a turn, replayed with an id below Last-Event-ID, still ends it")
    func lastFrameWithLowerID() async throws {
        let server = ScriptedChatServer { number, _ in
            if number == 0 {
                return ScriptedChatServer.frames([(1, "meta", "{}"), (2, "content", #"{"delta":"a"}"#), (3, "content", #"{"delta":"b"}"#)])
            }
            return ScriptedChatServer.frames([(2, "error", #"{"code":"interrupted","message":"the instance running the turn stopped"}"#)])
        }
        let (result, output) = try await server.ask()
        #expect(result.ending == .failed(code: "interrupted", message: "the instance running the turn stopped", retryable: nil))
        #expect(output.standardOutput == "ab\n")
        #expect(server.streamRequests == 2)
    }
}

/// A server with the chat routes the client uses, each answering what the test says.
final class ScriptedChatServer: Sendable {
    /// The body of the `number`-th stream request (from 0), given its `Last-Event-ID`.
    let stream: @Sendable (_ number: Int, _ lastEventID: Int?) -> String
    /// The turn's row.
    let row: String
    private let counts = Mutex<(streams: Int, rows: Int)>((0, 0))

    init(row: String = #"{"turn_id":"t-1","status":"running","response":""}"#, stream: @escaping @Sendable (Int, Int?) -> String) {
        self.row = row
        self.stream = stream
    }

    var streamRequests: Int { counts.withLock { $0.streams } }
    var rowRequests: Int { counts.withLock { $0.rows } }

    /// SSE frames.
    static func frames(_ frames: [(id: Int, name: String, data: String)]) -> String {
        "retry: 10\n\n" + frames.map { "id: \($0.id)\nevent: \($0.name)\ndata: \($0.data)\n\n" }.joined()
    }

    /// Asks one question of this server; the result and what was printed.
    func ask(configure: (inout ChatConfiguration) -> Void = { _ in }) async throws -> (TurnResult, CapturedChatOutput) {
        let router = Router()
        router.post("/api/paliadin/turn") { _, _ in
            Self.json(#"{"turn_id":"t-1","sse_url":"/api/paliadin/stream/t-1"}"#)
        }
        router.get("/api/paliadin/stream/:id") { request, _ in
            let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int($0) }
            let number = self.counts.withLock { counts in
                defer { counts.streams += 1 }
                return counts.streams
            }
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody(byteBuffer: ByteBuffer(string: self.stream(number, lastEventID))))
        }
        router.get("/api/paliadin/turn/:id") { _, _ in
            self.counts.withLock { $0.rows += 1 }
            return Self.json(self.row)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let output = CapturedChatOutput()
        var settings = ChatConfiguration(resume: ResumePolicy(defaultDelay: .milliseconds(10), maxDelay: .milliseconds(50), giveUpAfter: .seconds(20)))
        configure(&settings)
        let result = try await app.test(.live) { [settings] client in
            var configuration = settings
            configuration.server = "http://127.0.0.1:\(client.port!)"
            return try await ChatClient.withClient(configuration: configuration, output: output) { chat in
                await chat.ask("question", sessionID: "s")
            }
        }
        return (result, output)
    }

    private static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
