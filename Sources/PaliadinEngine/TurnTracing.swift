import PaliadinCore
import Tracing

/// Spans of turns, after the OpenTelemetry GenAI semantic conventions: one span per turn with
/// children for the backend call and the store's writes.
///
/// Off (`tracer` nil) by default, and then it costs one nil check per place: no span, no
/// attribute, no allocation.
public struct TurnTracing: Sendable {
    let tracer: (any Tracer)?

    /// - Parameter tracer: where spans go (swift-otel's tracer in the server); nil: tracing is off.
    public init(tracer: (any Tracer)?) {
        self.tracer = tracer
    }

    /// Whether spans are made.
    public var isOn: Bool { tracer != nil }

    /// No tracing.
    public static let off = TurnTracing(tracer: nil)

    /// Span names, for tests and dashboards.
    public enum Names {
        public static let turn = "paliadin.turn"
        public static let openTurn = "paliadin.store.open_turn"
        public static let flushEvents = "paliadin.store.flush_events"
        public static let finishTurn = "paliadin.store.finish_turn"
        /// The backend call is named `chat <model>`, as the GenAI conventions name an inference.
        public static func backendCall(model: String) -> String { "chat \(model)" }
    }

    /// Starts the span of a turn about to be written and run.
    func startTurn(_ record: TurnRecord) -> (any Span)? {
        guard let tracer else { return nil }
        let span = tracer.startSpan(Names.turn, context: .topLevel, ofKind: .server)
        span.attributes["gen_ai.operation.name"] = "chat"
        span.attributes["gen_ai.request.model"] = record.model
        span.attributes["gen_ai.conversation.id"] = record.sessionID
        span.attributes["paliadin.turn.id"] = record.id.description
        span.attributes["paliadin.backend"] = record.backend
        return span
    }

    /// Starts a child of `parent` (nothing when there is no parent: tracing is off).
    func child(_ name: String, of parent: (any Span)?, kind: SpanKind = .internal) -> (any Span)? {
        guard let tracer, let parent else { return nil }
        return tracer.startSpan(name, context: parent.context, ofKind: kind)
    }

    /// Starts the span of the backend call, a child of the turn's.
    func startBackendCall(of parent: (any Span)?, backend: any ChatBackend) -> (any Span)? {
        guard let span = child(Names.backendCall(model: backend.model), of: parent, kind: .client) else { return nil }
        span.attributes["gen_ai.operation.name"] = "chat"
        span.attributes["gen_ai.request.model"] = backend.model
        span.attributes["paliadin.backend"] = backend.name
        return span
    }

    /// Ends a store span; a failed write marks it so.
    func endStoreSpan(_ span: (any Span)?, operation: String, error: (any Error)? = nil) {
        guard let span else { return }
        span.attributes["db.operation.name"] = operation
        if let error {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }

    /// Ends the backend call's span. `outcome` is `ok`, an error code, or `stopped` (the turn
    /// ended the call: a cancel, the silence rule, a deadline, shutdown).
    func endBackendCall(_ span: (any Span)?, outcome: String, tokensIn: Int?, tokensOut: Int?) {
        guard let span else { return }
        if let tokensIn { span.attributes["gen_ai.usage.input_tokens"] = tokensIn }
        if let tokensOut { span.attributes["gen_ai.usage.output_tokens"] = tokensOut }
        switch outcome {
        case "ok": break
        case "stopped": span.attributes["paliadin.backend.stopped"] = true
        default:
            span.attributes["error.type"] = outcome
            span.setStatus(SpanStatus(code: .error, message: outcome))
        }
        span.end()
    }

    /// Ends the span of a turn whose row could not be written (it never ran).
    func endUnopened(_ span: (any Span)?, error: any Error) {
        guard let span else { return }
        span.attributes["paliadin.turn.status"] = "not_started"
        span.attributes["error.type"] = TurnErrorCode.internalError
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error, message: "the turn's row could not be written"))
        span.end()
    }

    /// Ends the turn's span with its outcome.
    func endTurn(_ span: (any Span)?, outcome: TurnOutcome) {
        guard let span else { return }
        span.attributes["paliadin.turn.status"] = outcome.status.rawValue
        if let tokensIn = outcome.tokensIn { span.attributes["gen_ai.usage.input_tokens"] = tokensIn }
        if let tokensOut = outcome.tokensOut { span.attributes["gen_ai.usage.output_tokens"] = tokensOut }
        if let ttft = outcome.ttftMS { span.attributes["paliadin.turn.ttft_ms"] = ttft }
        if let code = outcome.errorCode {
            span.attributes["error.type"] = code
            span.setStatus(SpanStatus(code: .error, message: outcome.errorMessage ?? code))
        }
        span.end()
    }
}
