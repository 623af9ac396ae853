import Foundation
import NIOCore
import NIOHTTP1

/// One connection of the mock upstream: reads a request, decodes its JSON body once, and
/// streams the `MockScript` of its last user message. Lives on its channel's event loop.
final class MockUpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The part of a chat completions request the mock reads.
    private struct ChatRequest: Decodable {
        struct Message: Decodable {
            var role: String
            var content: String?
            enum CodingKeys: String, CodingKey { case role, content }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                role = try container.decode(String.self, forKey: .role)
                content = try? container.decode(String.self, forKey: .content)
            }
        }
        var messages: [Message]
    }

    /// The response being streamed.
    private struct Stream {
        var script: MockScript
        var keepAlive: Bool
        var promptTokens: Int
        var sent = 0
        var timer: Scheduled<Void>?
    }

    private let upstream: MockUpstream
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var stream: Stream?

    init(upstream: MockUpstream) {
        self.upstream = upstream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
        case .body(var part):
            if body == nil { body = part } else { body!.writeBuffer(&part) }
        case .end:
            respond(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream?.timer?.cancel()
        stream = nil
        context.fireChannelInactive()
    }

    private func respond(context: ChannelHandlerContext) {
        guard let head, head.method == .POST, head.uri.hasSuffix("/chat/completions") else {
            return plain(context: context, status: .notFound)
        }
        let bytes = body.map { Data($0.readableBytesView) } ?? Data()
        guard let request = try? JSONDecoder().decode(ChatRequest.self, from: bytes) else {
            return plain(context: context, status: .badRequest)
        }
        upstream.countRequest()
        let message = request.messages.last(where: { $0.role == "user" })?.content ?? ""
        let script = MockScript(message: Substring(message))
        stream = Stream(script: script, keepAlive: head.isKeepAlive, promptTokens: max(1, bytes.count / 4))
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)
        if script.firstMS > 0 {
            schedule(context: context, afterMS: script.firstMS) { $0.start(context: context) }
        } else {
            start(context: context)
        }
    }

    /// The role chunk and the first content chunk (burst: all of them), flushed.
    private func start(context: ChannelHandlerContext) {
        guard let script = stream?.script else { return }
        write(context, upstream.chunks.role)
        guard script.chunks > 0 else { return finish(context: context) }
        if script.intervalMS > 0 {
            write(context, upstream.chunks.content)
            stream?.sent = 1
            flushFirstContent(context: context)
            if script.chunks == 1 { return finish(context: context) }
            schedule(context: context, afterMS: script.intervalMS) { $0.tick(context: context) }
        } else {
            for _ in 0..<script.chunks { write(context, upstream.chunks.content) }
            stream?.sent = script.chunks
            flushFirstContent(context: context)
            finish(context: context)
        }
    }

    /// One paced content chunk, flushed; then the next, or the end.
    private func tick(context: ChannelHandlerContext) {
        guard var current = stream else { return }
        current.sent += 1
        stream = current
        if current.sent >= current.script.chunks {
            write(context, upstream.chunks.content)
            finish(context: context)
        } else {
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(upstream.chunks.content))), promise: nil)
            schedule(context: context, afterMS: current.script.intervalMS) { $0.tick(context: context) }
        }
    }

    /// Finish reason, usage, `[DONE]`, end of the response; closes when the client asked to.
    private func finish(context: ChannelHandlerContext) {
        guard let current = stream else { return }
        stream = nil
        write(context, upstream.chunks.finish)
        write(context, upstream.chunks.usage(prompt: current.promptTokens, completion: current.script.chunks))
        write(context, upstream.chunks.done)
        let ended = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !current.keepAlive {
            let channel = context.channel
            ended.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func flushFirstContent(context: ChannelHandlerContext) {
        if let tag = stream?.script.tag { upstream.recordFirstContent(tag: tag, at: BenchClock.now()) }
        context.flush()
    }

    private func write(_ context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    private func schedule(context: ChannelHandlerContext, afterMS: Double, _ body: @escaping (MockUpstreamHandler) -> Void) {
        stream?.timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(afterMS * 1e6))) { body(self) }
    }

    private func plain(context: ChannelHandlerContext, status: HTTPResponseStatus) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
