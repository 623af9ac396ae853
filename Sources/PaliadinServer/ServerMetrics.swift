import CoreMetrics
import Metrics
import PaliadinEngine
import PaliadinStore
import Prometheus

/// The application's metrics: one Prometheus registry that the engine, the event-log writer
/// and the HTTP side all report to, and that `GET /metrics` renders.
///
/// Each application has its own registry (nothing global), so several applications in one
/// process — tests — never mix their figures.
public struct ServerMetrics: Sendable {
    /// Where every metric lives.
    public let registry: PrometheusCollectorRegistry
    /// The swift-metrics factory over `registry`, with Paliadin's histogram buckets.
    public let factory: PrometheusMetricsFactory
    /// Streams (SSE responses) open now.
    let readersOpen: CoreMetrics.Meter
    /// Stream requests that resumed a turn (`Last-Event-ID` or `?after=` past 0).
    let resumes: CoreMetrics.Counter

    /// The metric names of the HTTP side.
    public enum Names {
        public static let readersOpen = "paliadin_sse_readers_open"
        public static let resumes = "paliadin_stream_resumes_total"
    }

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        // Turns take from milliseconds (a cached answer) to many minutes (an agent).
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
            .seconds(600), .seconds(1800),
        ]
        // One transaction of events takes well under a millisecond on SQLite.
        factory.durationHistogramBuckets[EventLogWriter.writeLatencyMetric] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        factory.valueHistogramBuckets[EventLogWriter.batchSizeMetric] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        self.factory = factory
        self.readersOpen = CoreMetrics.Meter(label: Names.readersOpen, factory: factory)
        self.resumes = CoreMetrics.Counter(label: Names.resumes, factory: factory)
    }

    /// The engine's metrics, reporting here.
    public var turns: TurnMetrics { TurnMetrics(factory: factory) }

    /// Every metric in the Prometheus text format.
    public func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
