import CoreMetrics
import Metrics
import PaliadinCore

/// The turn engine's metrics, made through an injected swift-metrics factory (Prometheus in
/// the server, nothing by default).
///
/// Each name always carries the same label names, as Prometheus requires; a turn without an
/// error code is counted with `error_code="none"`.
public struct TurnMetrics: Sendable {
    /// The factory every metric is made with (also given to the event-log writer).
    public let factory: any MetricsFactory
    private let running: Meter

    /// - Parameter factory: where the metrics go; the default drops them.
    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        self.running = Meter(label: Names.running, factory: factory)
    }

    /// Metric names, for the server's histogram buckets and for tests.
    public enum Names {
        public static let started = "paliadin_turns_started_total"
        public static let finished = "paliadin_turns_finished_total"
        public static let running = "paliadin_turns_running"
        public static let firstContent = "paliadin_turn_first_content_seconds"
        public static let duration = "paliadin_turn_duration_seconds"
        public static let tokensIn = "paliadin_tokens_input_total"
        public static let tokensOut = "paliadin_tokens_output_total"
        public static let backendRequest = "paliadin_backend_request_seconds"
    }

    /// A turn was accepted and its row written.
    func turnStarted(backend: String, model: String) {
        Counter(label: Names.started, dimensions: [("backend", backend), ("model", model)], factory: factory).increment()
    }

    /// A turn began to run here (its runner started).
    func turnRunning() { running.increment() }

    /// A turn's runner ended, however it ended.
    func turnStopped() { running.decrement() }

    /// A turn was closed with `status` (and `errorCode` when it failed).
    func turnFinished(
        backend: String, model: String, status: TurnStatus, errorCode: String?, duration: Duration, firstContent: Duration?,
        tokensIn: Int?, tokensOut: Int?
    ) {
        let labels = [("backend", backend), ("model", model)]
        Counter(
            label: Names.finished, dimensions: labels + [("status", status.rawValue), ("error_code", errorCode ?? "none")],
            factory: factory
        ).increment()
        Timer(label: Names.duration, dimensions: labels, factory: factory).record(duration: duration)
        if let firstContent { Timer(label: Names.firstContent, dimensions: labels, factory: factory).record(duration: firstContent) }
        if let tokensIn, tokensIn > 0 { Counter(label: Names.tokensIn, dimensions: labels, factory: factory).increment(by: tokensIn) }
        if let tokensOut, tokensOut > 0 { Counter(label: Names.tokensOut, dimensions: labels, factory: factory).increment(by: tokensOut) }
    }

    /// One call to a backend took `duration` and ended with `outcome` (`ok`, an error code, or
    /// `stopped` when the turn ended it first).
    func backendRequest(backend: String, model: String, outcome: String, duration: Duration) {
        Timer(
            label: Names.backendRequest, dimensions: [("backend", backend), ("model", model), ("outcome", outcome)], factory: factory
        ).record(duration: duration)
    }
}
