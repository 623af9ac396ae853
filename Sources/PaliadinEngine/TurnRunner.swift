import Foundation
import Logging
import PaliadinCore
import PaliadinStore
import Synchronization
import Tracing

/// Runs one turn from its `meta` event to its last event: drives the backend, applies the
/// silence / thinking / deadline rules with the injected clock, honours stop requests, and
/// closes the row and the log together.
struct TurnRunner: Sendable {
    let record: TurnRecord
    let turn: NewTurn
    let backend: any ChatBackend
    let conversation: ConversationBuilder
    /// The session's earlier exchanges or conversation id, read when the turn's row was written.
    let past: SessionPast
    let entry: LiveTurnHub.Entry
    let writer: EventLogWriter
    let store: any TurnStore
    let timing: TurnTimingPolicy
    let clock: EngineClock
    let metrics: TurnMetrics
    let tracing: TurnTracing
    /// The turn's span (nil: tracing is off).
    let span: (any Span)?
    /// Whether the turn's log line carries its message and answer.
    let logsMessageText: Bool
    let logger: Logger

    /// How the turn came to an end.
    enum Ending: Sendable {
        case answered
        case failed(ErrorPayload)
        case stopped(StopReason)
    }

    /// Runs the turn; returns false when its end could not be saved.
    func run() async -> Bool {
        metrics.turnRunning()
        defer { metrics.turnStopped() }
        let start = clock.now
        let progress = SharedProgress(TurnProgress(watch: TurnWatch(policy: timing, mode: backend.mode)))
        await emit(.meta, MetaPayload(turnID: record.id, startedAt: record.startedAt))

        let request = backendRequest()
        let ending = await withTaskGroup(of: Ending?.self) { group -> Ending in
            group.addTask { await pumpBackend(request, progress: progress, start: start) }
            group.addTask { await watch(progress: progress, start: start) }
            group.addTask { await entry.control.waitForStop().map(Ending.stopped) }
            var ending = Ending.stopped(.interrupted)
            for await result in group {
                if let result {
                    ending = result
                    break
                }
            }
            group.cancelAll()
            return ending
        }
        progress.withLock { $0.watch.finish() }
        return await close(ending: ending, progress: progress.withLock { $0 }, elapsed: clock.now - start)
    }

    // MARK: - Backend

    /// The messages for the backend: the session's earlier exchanges (for stateless backends), the page context, the new message.
    private func backendRequest() -> BackendTurnRequest {
        let messages = conversation.messages(
            userMessage: turn.userMessage, pageOrigin: turn.pageOrigin, context: turn.context, history: past.exchanges)
        return BackendTurnRequest(
            turnID: record.id, userID: turn.userID, sessionID: turn.sessionID, messages: messages, conversationID: past.conversationID)
    }

    private func pumpBackend(_ request: BackendTurnRequest, progress: SharedProgress, start: Duration) async -> Ending? {
        let called = clock.now
        let call = tracing.startBackendCall(of: span, backend: backend)
        let ending: Ending?
        do {
            try await backend.runTurn(request) { event in
                await handle(event, progress: progress, at: clock.now - start)
            }
            ending = .answered
        } catch let failure as BackendFailure {
            ending = .failed(ErrorPayload(code: failure.code, message: failure.message, retryable: failure.retryable))
        } catch {
            // Cancelled because the watch or a stop request ended the turn first.
            ending = Task.isCancelled ? nil : .failed(ErrorPayload(code: TurnErrorCode.upstreamError, message: "\(error)", retryable: true))
        }
        let outcome: String
        switch ending {
        case .answered: outcome = "ok"
        case .failed(let error): outcome = error.code
        case .stopped, nil: outcome = "stopped"
        }
        metrics.backendRequest(backend: backend.name, model: backend.model, outcome: outcome, duration: clock.now - called)
        if call != nil {
            let (tokensIn, tokensOut) = progress.withLock { ($0.tokensIn, $0.tokensOut) }
            tracing.endBackendCall(call, outcome: outcome, tokensIn: tokensIn, tokensOut: tokensOut)
        }
        return ending
    }

    private func handle(_ event: BackendEvent, progress: SharedProgress, at now: Duration) async {
        switch event {
        case .chunk(let text):
            guard !text.isEmpty else { return }
            progress.withLock { progress in
                progress.watch.contentArrived(at: now)
                progress.response += text
                if progress.firstContent == nil { progress.firstContent = now }
            }
            await emit(.content, backend.mode == .streaming ? ContentPayload.delta(text) : ContentPayload.whole(text))
        case .heartbeat:
            if let payload = progress.withLock({ $0.watch.heartbeatArrived(at: now) }) {
                await emit(.thinking, payload)
            }
        case .meta(let meta):
            progress.withLock { progress in
                progress.watch.activity(at: now)
                progress.apply(meta)
            }
        case .conversation(let id):
            progress.withLock { progress in
                progress.watch.activity(at: now)
                progress.conversationID = id
            }
        case .usage(let tokensIn, let tokensOut):
            progress.withLock { progress in
                progress.watch.activity(at: now)
                if let tokensIn { progress.tokensIn = tokensIn }
                if let tokensOut { progress.tokensOut = tokensOut }
            }
        }
    }

    // MARK: - Timing rules

    private func watch(progress: SharedProgress, start: Duration) async -> Ending? {
        while let wakeup = progress.withLock({ $0.watch.nextWakeup }) {
            do {
                try await clock.sleep(until: start + wakeup)
            } catch {
                return nil
            }
            let actions = progress.withLock { $0.watch.tick(at: clock.now - start) }
            for action in actions {
                switch action {
                case .emitThinking(let payload):
                    await emit(.thinking, payload)
                case .fail(let error):
                    return .failed(error)
                }
            }
        }
        return nil
    }

    // MARK: - Events

    private func emit(_ kind: TurnEventKind, _ payload: some Encodable) async {
        _ = entry.log.emit(kind, data: PayloadCoding.encode(payload))
    }

    // MARK: - Closing

    private func close(ending: Ending, progress: TurnProgress, elapsed: Duration) async -> Bool {
        let finishedAt = Date()
        let durationMS = Self.milliseconds(elapsed)
        let ttftMS = progress.firstContent.map(Self.milliseconds)
        var outcome = TurnOutcome(
            status: .completed, response: progress.response, firstTokenAt: ttftMS.map { record.startedAt.addingTimeInterval(Double($0) / 1000) },
            finishedAt: finishedAt, durationMS: durationMS, ttftMS: ttftMS, tokensIn: progress.tokensIn,
            tokensOut: progress.tokensOut, usedTools: progress.usedTools, rowsSeen: progress.rowsSeen,
            chipCount: progress.chipCount, classifierTag: progress.classifierTag, conversationID: progress.conversationID,
            streamed: backend.mode == .streaming)
        var failure: ErrorPayload?
        switch ending {
        case .answered:
            break
        case .failed(let error):
            failure = error
            outcome.status = .failed
        case .stopped(.cancelled):
            failure = ErrorPayload(code: TurnErrorCode.cancelled, message: "the turn was stopped", retryable: false)
            outcome.status = .cancelled
        case .stopped(.interrupted):
            failure = ErrorPayload(code: TurnErrorCode.interrupted, message: "Paliadin shut down before the turn ended", retryable: true)
            outcome.status = .interrupted
        case .stopped(.storeFailed):
            // The flush below throws the store's error and says more.
            failure = ErrorPayload(code: TurnErrorCode.internalError, message: "could not save the turn's events", retryable: true)
            outcome.status = .failed
        }
        let flushing = tracing.child(TurnTracing.Names.flushEvents, of: span)
        do {
            try await writer.flush(turn: record.id)
            tracing.endStoreSpan(flushing, operation: "flush_events")
        } catch {
            tracing.endStoreSpan(flushing, operation: "flush_events", error: error)
            failure = ErrorPayload(code: TurnErrorCode.internalError, message: "could not save the turn's events: \(error)", retryable: true)
            outcome.status = .failed
        }
        outcome.errorCode = failure?.code
        outcome.errorMessage = failure?.message
        let lastData: String
        if let failure {
            lastData = PayloadCoding.encode(failure)
        } else {
            lastData = PayloadCoding.encode(
                EndPayload(
                    turnID: record.id, usedTools: outcome.usedTools, rowsSeen: outcome.rowsSeen, chipCount: outcome.chipCount,
                    classifierTag: outcome.classifierTag, durationMS: durationMS, ttftMS: ttftMS, streamed: outcome.streamed,
                    tokensIn: outcome.tokensIn, tokensOut: outcome.tokensOut, conversationID: outcome.conversationID))
        }
        guard var last = entry.log.seal(failure == nil ? .end : .error, data: lastData) else {
            // Already closed by someone else (a stop on shutdown): the span ends all the same.
            tracing.endTurn(span, outcome: outcome)
            return true
        }
        var saved = false
        let finishing = tracing.child(TurnTracing.Names.finishTurn, of: span)
        var finishError: (any Error)?
        // A database that restarts (or fails over) is back within seconds: keep trying for
        // about 20 s, so the row does not stay `running` with nobody to close it.
        for pause in Self.closeRetryPauses {
            if pause > .zero { try? await clock.sleep(for: pause) }
            do {
                saved = try await store.finishTurn(record.id, outcome: outcome, lastEvent: last)
                if !saved {
                    logger.error("the turn was already closed by someone else", metadata: ["turn": "\(record.id)"])
                }
                break
            } catch {
                finishError = error
                logger.error("could not close the turn", metadata: ["turn": "\(record.id)", "error": "\(error)"])
            }
        }
        tracing.endStoreSpan(finishing, operation: "finish_turn", error: saved ? nil : finishError)
        if !saved {
            let internalError = ErrorPayload(code: TurnErrorCode.internalError, message: "could not save the end of the turn", retryable: true)
            last = TurnEvent(turnID: record.id, seq: last.seq, kind: .error, data: PayloadCoding.encode(internalError))
            outcome.status = .failed
            outcome.errorCode = internalError.code
        }
        entry.log.publish(last: last)
        metrics.turnFinished(
            backend: record.backend, model: record.model, status: outcome.status, errorCode: outcome.errorCode, duration: elapsed,
            firstContent: progress.firstContent, tokensIn: outcome.tokensIn, tokensOut: outcome.tokensOut)
        tracing.endTurn(span, outcome: outcome)
        var line: Logger.Metadata = [
            "turn": "\(record.id)", "status": "\(outcome.status.rawValue)", "error_code": "\(outcome.errorCode ?? "")",
            "duration_ms": .stringConvertible(durationMS), "ttft_ms": ttftMS.map { .stringConvertible($0) } ?? "", "backend": "\(backend.name)",
            "model": "\(backend.model)",
        ]
        if logsMessageText {
            line["user_message"] = "\(record.userMessage)"
            line["response"] = "\(outcome.response)"
        }
        logger.info("turn ended", metadata: line)
        return saved
    }

    /// Pauses before each attempt to write the turn's end.
    static let closeRetryPauses: [Duration] = [.zero, .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(4), .seconds(8)]

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
