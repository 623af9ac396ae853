import Foundation
import Hummingbird
import Synchronization

/// An in-process OpenTelemetry collector for tests: accepts OTLP/HTTP trace exports in the
/// JSON encoding at `POST /v1/traces` and keeps the spans it was sent (exports in the
/// protobuf encoding are kept as bytes).
///
/// It reads the payload leniently (ids as hex or base64, enums as names or numbers, 64-bit
/// integers as strings or numbers), since only the span tree and the attributes matter to
/// the tests.
public final class OTLPReceiver: Sendable {
    /// One received span, flattened.
    public struct ReceivedSpan: Sendable {
        public var traceID: String
        public var spanID: String
        public var parentSpanID: String
        public var name: String
        public var kind: String
        public var attributes: [String: String]
        public var statusCode: String
        /// `service.name` of the resource the span came with.
        public var serviceName: String?
    }

    private let spans = Mutex<[ReceivedSpan]>([])
    private let requests = Mutex<[String]>([])
    private let protobufBodies = Mutex<[Data]>([])

    public init() {}

    /// Every span received so far, in arrival order.
    public var received: [ReceivedSpan] { spans.withLock { $0 } }

    /// The bodies of the exports received in the binary (protobuf) encoding.
    public var protobufExports: [Data] { protobufBodies.withLock { $0 } }

    /// The `Content-Type` of each export request received.
    public var contentTypes: [String] { requests.withLock { $0 } }

    /// Runs the receiver on a free loopback port for the duration of `body`, handing it the
    /// endpoint (`http://127.0.0.1:PORT`).
    public func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            let data = try await request.body.collect(upTo: 16 << 20)
            let contentType = request.headers[.contentType] ?? ""
            self.requests.withLock { $0.append(contentType) }
            if contentType.hasPrefix("application/x-protobuf") {
                // Not decoded (the OTLP types are swift-otel's own): kept whole, so a test can
                // look for the strings a span carries (protobuf stores them as they are).
                self.protobufBodies.withLock { $0.append(Data(buffer: data)) }
                return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
            }
            guard let root = try? JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any] else {
                return Response(status: .badRequest)
            }
            let parsed = Self.spans(in: root)
            self.spans.withLock { $0.append(contentsOf: parsed) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        return try await LoopbackServer.run(router, name: "otlp-receiver", port: 0) { port in
            try await body("http://127.0.0.1:\(port)")
        }
    }

    static func spans(in root: [String: Any]) -> [ReceivedSpan] {
        var result: [ReceivedSpan] = []
        for resourceSpans in root["resourceSpans"] as? [[String: Any]] ?? [] {
            let resource = attributes(((resourceSpans["resource"] as? [String: Any])?["attributes"]) as? [[String: Any]])
            for scopeSpans in resourceSpans["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scopeSpans["spans"] as? [[String: Any]] ?? [] {
                    let status = span["status"] as? [String: Any]
                    result.append(
                        ReceivedSpan(
                            traceID: span["traceId"] as? String ?? "", spanID: span["spanId"] as? String ?? "",
                            parentSpanID: span["parentSpanId"] as? String ?? "", name: span["name"] as? String ?? "",
                            kind: "\(span["kind"] ?? "")", attributes: attributes(span["attributes"] as? [[String: Any]]),
                            statusCode: status.map { "\($0["code"] ?? "")" } ?? "", serviceName: resource["service.name"]))
                }
            }
        }
        return result
    }

    /// OTLP key/value pairs as strings (`intValue` may be a string or a number).
    static func attributes(_ list: [[String: Any]]?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in list ?? [] {
            guard let key = pair["key"] as? String, let value = pair["value"] as? [String: Any], let first = value.first else { continue }
            result[key] = "\(first.value)"
        }
        return result
    }
}
