import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PaliadinCore
import Synchronization

/// One streaming request to a backend, read through AsyncHTTPClient's delegate API.
///
/// A reader takes everything that arrived since its last read in one piece. A backend writes
/// each token as its own HTTP chunk; read one chunk at a time, a burst of 200 tokens costs 200
/// relay rounds (an event, a row, a frame for each reader). Read this way, whatever came
/// while the previous read was being handled goes on together: the first token still goes on
/// at once, a burst costs a few rounds, and the text is the same.
///
/// Memory stays bounded: past `highWater` bytes not yet taken, the connection is not read
/// until the reader catches up.
struct UpstreamStream: Sendable {
    /// The response's status and headers.
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    private let shared: Shared

    private init(head: HTTPResponseHead, shared: Shared) {
        self.status = head.status
        self.headers = head.headers
        self.shared = shared
    }

    /// Sends the request and waits for the response head (at most `headTimeout`).
    ///
    /// - Throws: `BackendFailure` `upstream_timeout` when the head does not come in time,
    ///   `backend_unavailable` when the server cannot be reached; `CancellationError` when the
    ///   task is cancelled. `baseURL` names the server in the message.
    static func open(
        _ client: HTTPClient, url: String, headers: HTTPHeaders, body: Data, headTimeout: TimeAmount, baseURL: String,
        highWater: Int = 1 << 20
    ) async throws -> UpstreamStream {
        let shared = Shared(highWater: highWater)
        do {
            let request = try HTTPClient.Request(url: url, method: .POST, headers: headers, body: .bytes(body))
            let task = client.execute(request: request, delegate: shared, eventLoop: .indifferent, deadline: nil, logger: nil)
            shared.attach(task)
            let timeout = task.eventLoop.scheduleTask(in: headTimeout) { task.fail(reason: HTTPClientError.deadlineExceeded) }
            defer { timeout.cancel() }
            let head = try await withTaskCancellationHandler {
                try await shared.head()
            } onCancel: {
                task.cancel()
            }
            return UpstreamStream(head: head, shared: shared)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            try Task.checkCancellation()
            throw BackendFailure(code: TurnErrorCode.upstreamTimeout, message: "the backend did not answer in time", retryable: true)
        } catch {
            try Task.checkCancellation()
            throw BackendFailure(
                code: TurnErrorCode.backendUnavailable, message: "could not reach the backend at \(baseURL): \(error)", retryable: true)
        }
    }

    /// Everything that arrived since the last call, waiting for at least one piece; `nil`
    /// once the body has ended. Throws the transport's error when the body broke (after
    /// handing over what came before it).
    func nextReads() async throws -> [ByteBuffer]? {
        try await withTaskCancellationHandler {
            try await shared.nextReads()
        } onCancel: { [shared] in
            shared.close()
        }
    }

    /// The rest of the body as text, at most `limit` bytes (for an error response).
    func collect(upTo limit: Int) async -> String {
        var text = ByteBuffer()
        while text.readableBytes < limit, let reads = try? await nextReads() {
            for var buffer in reads {
                let room = limit - text.readableBytes
                if buffer.readableBytes > room { buffer = buffer.getSlice(at: buffer.readerIndex, length: room) ?? buffer }
                text.writeBuffer(&buffer)
            }
        }
        close()
        return String(buffer: text)
    }

    /// The reader is done (the answer is complete, or reading failed or was cancelled): a body
    /// still coming is cancelled, which closes its connection; a connection whose body ended
    /// goes back to the pool for the next turn.
    func close() {
        shared.close()
    }
}

extension UpstreamStream {
    /// The delegate: the state the event loop (adding what arrives) and the reader (taking it) share.
    final class Shared: HTTPClientResponseDelegate {
        typealias Response = Void

        private struct State {
            var task: HTTPClient.Task<Void>?
            var head: HTTPResponseHead?
            var headWaiter: CheckedContinuation<HTTPResponseHead, any Error>?
            var reads: [ByteBuffer] = []
            var bufferedBytes = 0
            /// Set when the body ended (`ended`) or broke (`failure`).
            var ended = false
            var failure: (any Error)?
            var readsWaiter: CheckedContinuation<[ByteBuffer]?, any Error>?
            /// Completed when the reader takes what is buffered (the connection is not read meanwhile).
            var paused: EventLoopPromise<Void>?
            /// The reader is gone: whatever still arrives is dropped.
            var discarding = false
        }

        private let highWater: Int
        private let state = Mutex(State())

        init(highWater: Int) {
            self.highWater = highWater
        }

        func attach(_ task: HTTPClient.Task<Void>) {
            state.withLock { $0.task = task }
            task.futureResult.whenComplete { result in
                switch result {
                case .success: self.end(with: nil)
                case .failure(let error): self.end(with: error)
                }
            }
        }

        func head() async throws -> HTTPResponseHead {
            try await withCheckedThrowingContinuation { continuation in
                let outcome = state.withLock { state -> Result<HTTPResponseHead, any Error>? in
                    if let head = state.head { return .success(head) }
                    if let failure = state.failure { return .failure(failure) }
                    if state.ended { return .failure(HTTPClientError.remoteConnectionClosed) }
                    state.headWaiter = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        }

        func nextReads() async throws -> [ByteBuffer]? {
            try await withCheckedThrowingContinuation { continuation in
                let (outcome, resumeReading) = state.withLock { state -> (Result<[ByteBuffer]?, any Error>?, EventLoopPromise<Void>?) in
                    guard state.reads.isEmpty else {
                        let reads = state.reads
                        state.reads = []
                        state.bufferedBytes = 0
                        defer { state.paused = nil }
                        return (.success(reads), state.paused)
                    }
                    if let failure = state.failure { return (.failure(failure), nil) }
                    if state.ended { return (.success(nil), nil) }
                    state.readsWaiter = continuation
                    return (nil, nil)
                }
                resumeReading?.succeed()
                if let outcome { continuation.resume(with: outcome) }
            }
        }

        /// Drops what is buffered and stops the request unless it has ended.
        func close() {
            let (task, paused) = state.withLock { state in
                state.discarding = true
                state.reads = []
                state.bufferedBytes = 0
                defer { state.paused = nil }
                return (state.ended ? nil : state.task, state.paused)
            }
            paused?.succeed()
            task?.cancel()
        }

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            let waiter = state.withLock { state in
                state.head = head
                defer { state.headWaiter = nil }
                return state.headWaiter
            }
            waiter?.resume(returning: head)
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            let (waiter, pause) = state.withLock { state -> (CheckedContinuation<[ByteBuffer]?, any Error>?, EventLoopFuture<Void>?) in
                guard !state.discarding else { return (nil, nil) }
                if let waiter = state.readsWaiter {
                    state.readsWaiter = nil
                    return (waiter, nil)
                }
                state.reads.append(buffer)
                state.bufferedBytes += buffer.readableBytes
                guard state.bufferedBytes > highWater else { return (nil, nil) }
                let promise = state.paused ?? task.eventLoop.makePromise(of: Void.self)
                state.paused = promise
                return (nil, promise.futureResult)
            }
            waiter?.resume(returning: [buffer])
            return pause ?? task.eventLoop.makeSucceededVoidFuture()
        }

        func didFinishRequest(task: HTTPClient.Task<Void>) throws {}

        /// The request is over: the body ended (`error` nil) or broke.
        private func end(with error: (any Error)?) {
            let (headWaiter, readsWaiter, paused) = state.withLock { state in
                state.ended = true
                state.failure = error
                // The task holds this delegate: let go of it, so neither keeps the other alive.
                state.task = nil
                defer {
                    state.headWaiter = nil
                    state.readsWaiter = nil
                    state.paused = nil
                }
                return (state.headWaiter, state.readsWaiter, state.paused)
            }
            paused?.succeed()
            if let headWaiter {
                headWaiter.resume(throwing: error ?? HTTPClientError.remoteConnectionClosed)
            }
            if let readsWaiter {
                if let error { readsWaiter.resume(throwing: error) } else { readsWaiter.resume(returning: nil) }
            }
        }
    }
}
