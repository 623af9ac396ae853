import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP/1.1 client connection of the load client (NIO's codec plus a `ProbeHandler`),
/// carrying one request at a time.
struct HTTPConnection: Sendable {
    let channel: any Channel
    let host: String

    /// Opens a connection to `127.0.0.1:port` on `eventLoop`.
    static func connect(port: Int, on eventLoop: any EventLoop) -> EventLoopFuture<HTTPConnection> {
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.maxMessagesPerRead, value: 16)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler())
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .map { HTTPConnection(channel: $0, host: "127.0.0.1:\(port)") }
    }

    /// Sends one request; the record comes back when the response has ended or failed.
    func send(
        method: HTTPMethod, uri: String, body: ByteBuffer? = nil, contentType: String? = nil,
        reading: ProbeRequest.Reading, keepGaps: Bool = false, timeoutMS: Int64 = 60_000
    ) -> EventLoopFuture<ProbeRecord> {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        if let body {
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            if let contentType { headers.add(name: "Content-Type", value: contentType) }
        }
        if case .stream = reading { headers.add(name: "Accept", value: "text/event-stream") }
        let promise = channel.eventLoop.makePromise(of: ProbeRecord.self)
        let request = ProbeRequest(
            head: HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: headers), body: body,
            reading: reading, keepGaps: keepGaps, timeoutMS: timeoutMS, promise: promise)
        channel.writeAndFlush(request).whenFailure { error in
            var record = ProbeRecord()
            record.failure = "write failed: \(error)"
            promise.succeed(record)
        }
        return promise.futureResult
    }

    func close() {
        channel.close(promise: nil)
    }
}
