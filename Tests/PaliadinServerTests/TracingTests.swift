import Foundation
import Logging
import PaliadinEngine
@testable import PaliadinServer
import PaliadinTestSupport
import Synchronization
import Testing

@Suite("OpenTelemetry traces")
struct TracingTests {
    @Test("each turn is one trace: the turn's span, the backend call and the store writes, with the GenAI attributes")
    func turnSpans() async throws {
        let receiver = OTLPReceiver()
        let ids = Mutex<(completed: String, failed: String)?>(nil)
        try await receiver.run { endpoint in
            // The exporter sends what it holds when the server shuts down, at the end of this call.
            try await TestHarness.withLiveServer(configure: {
                $0.otlpEndpoint = endpoint
                $0.otlpJSON = true
                $0.serviceName = "paliadin-under-test"
            }) { _, client in
                let completed = try await client.startTurn("mock:chunks=3")
                #expect(try await client.stream(completed).events.last?.name == "end")
                let failed = try await client.startTurn("mock:status=500")
                #expect(try await client.stream(failed).events.last?.name == "error")
                _ = try await client.waitUntilFinished(failed)
                ids.withLock { $0 = (completed, failed) }
            }
        }
        let (completed, failed) = try #require(ids.withLock { $0 })
        #expect(receiver.contentTypes.allSatisfy { $0.hasPrefix("application/json") }, "\(receiver.contentTypes)")
        let spans = receiver.received

        let turn = try #require(spans.first { $0.name == TurnTracing.Names.turn && $0.attributes["paliadin.turn.id"] == completed })
        #expect(turn.serviceName == "paliadin-under-test")
        #expect(turn.parentSpanID.isEmpty)
        #expect(turn.attributes["gen_ai.operation.name"] == "chat")
        #expect(turn.attributes["gen_ai.request.model"] == "smollm2")
        #expect(turn.attributes["gen_ai.conversation.id"] == "s1")
        #expect(turn.attributes["gen_ai.usage.input_tokens"] == "11")
        #expect(turn.attributes["gen_ai.usage.output_tokens"] == "7")
        #expect(turn.attributes["paliadin.turn.status"] == "completed")
        #expect(turn.attributes["paliadin.turn.ttft_ms"] != nil)
        #expect(turn.attributes["error.type"] == nil)
        // No message text in spans.
        #expect(!turn.attributes.values.contains { $0.contains("mock:chunks") })

        let children = spans.filter { $0.traceID == turn.traceID && $0.parentSpanID == turn.spanID }
        let names = Set(children.map(\.name))
        #expect(
            names == [
                TurnTracing.Names.backendCall(model: "smollm2"), TurnTracing.Names.openTurn, TurnTracing.Names.flushEvents,
                TurnTracing.Names.finishTurn,
            ], "\(names)")
        let call = try #require(children.first { $0.name == TurnTracing.Names.backendCall(model: "smollm2") })
        #expect(call.attributes["gen_ai.operation.name"] == "chat")
        #expect(call.attributes["gen_ai.request.model"] == "smollm2")
        #expect(call.attributes["gen_ai.usage.output_tokens"] == "7")
        #expect(call.kind.lowercased().contains("client") || call.kind == "3")
        #expect(children.first { $0.name == TurnTracing.Names.openTurn }?.attributes["db.operation.name"] == "open_turn")

        let failedTurn = try #require(spans.first { $0.name == TurnTracing.Names.turn && $0.attributes["paliadin.turn.id"] == failed })
        #expect(failedTurn.attributes["paliadin.turn.status"] == "failed")
        #expect(failedTurn.attributes["error.type"] == "upstream_error")
        #expect(failedTurn.statusCode.lowercased().contains("error") || failedTurn.statusCode == "2")
        let failedCall = try #require(spans.first { $0.parentSpanID == failedTurn.spanID && $0.name.hasPrefix("chat ") })
        #expect(failedCall.attributes["error.type"] == "upstream_error")
    }

    @Test("by default spans go as OTLP protobuf, carrying the turn's id and the GenAI attributes")
    func protobufByDefault() async throws {
        let receiver = OTLPReceiver()
        let turnID = Mutex<String?>(nil)
        try await receiver.run { endpoint in
            try await TestHarness.withLiveServer(configure: { $0.otlpEndpoint = endpoint }) { _, client in
                let id = try await client.startTurn("mock:chunks=2")
                #expect(try await client.stream(id).events.last?.name == "end")
                _ = try await client.waitUntilFinished(id)
                turnID.withLock { $0 = id }
            }
        }
        let id = try #require(turnID.withLock { $0 })
        #expect(receiver.received.isEmpty)
        #expect(!receiver.contentTypes.isEmpty && receiver.contentTypes.allSatisfy { $0.hasPrefix("application/x-protobuf") })
        let bytes = receiver.protobufExports.reduce(Data(), +)
        for text in [id, "gen_ai.request.model", "gen_ai.usage.output_tokens", TurnTracing.Names.turn, "chat smollm2", "paliadin"] {
            #expect(bytes.range(of: Data(text.utf8)) != nil, "no '\(text)' in the export")
        }
    }

    @Test("swift-otel's diagnostics reach the log without the values of the OTEL_ variables it read")
    func diagnosticsRedacted() {
        let captured = CapturedLog()
        let base = captured.logger(level: .trace).handler
        var logger = Logger(label: "otel") { _ in RedactingLogHandler(base: base, hiding: ["environment_value", "new_value"]) }
        logger[metadataKey: "environment_value"] = "authorization=Bearer collector-secret-1"
        logger.warning(
            "Failed to update configuration from environment",
            metadata: ["new_value": "collector-secret-2", "environment_key": "OTEL_EXPORTER_OTLP_HEADERS"])
        let lines = captured.all
        #expect(lines.count == 1)
        #expect(lines.allSatisfy { !$0.contains("collector-secret") && $0.contains("OTEL_EXPORTER_OTLP_HEADERS") && $0.contains("(hidden)") }, "\(lines)")
    }

    @Test("without an endpoint no exporter runs")
    func offByDefault() throws {
        let (tracing, exporter) = try TracingSetup.make(AppConfiguration(), logger: .init(label: "test"))
        #expect(!tracing.isOn)
        #expect(exporter == nil)
    }

    @Test("the traces URL is the endpoint with /v1/traces")
    func tracesURL() {
        #expect(TracingSetup.tracesURL("http://127.0.0.1:4318") == "http://127.0.0.1:4318/v1/traces")
        #expect(TracingSetup.tracesURL("http://collector:4318/") == "http://collector:4318/v1/traces")
        #expect(TracingSetup.tracesURL("https://otel.example.com/v1/traces") == "https://otel.example.com/v1/traces")
        #expect(TracingSetup.tracesURL("https://otel.example.com/v1/traces/") == "https://otel.example.com/v1/traces")
    }
}
