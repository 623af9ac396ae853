import Logging
import OTel
import PaliadinEngine
import ServiceLifecycle
import Tracing

/// Builds the OTLP/HTTP span exporter when an endpoint is configured; otherwise tracing is off
/// and costs nothing.
enum TracingSetup {
    /// The turn engine's tracing, and the exporter's service (to run beside the others; it
    /// sends what is left on shutdown). `(.off, nil)` without an endpoint.
    static func make(_ configuration: AppConfiguration, logger: Logger) throws -> (tracing: TurnTracing, exporter: (any Service)?) {
        guard let endpoint = configuration.otlpEndpoint else { return (.off, nil) }
        var otel = OTel.Configuration.default
        otel.serviceName = configuration.serviceName
        // swift-otel logs the OTEL_* variables it reads, values included (headers may carry a
        // collector's credentials): only warnings and errors reach our log, without those values.
        let base = logger.handler
        let hiding: Set<String> = ["environment_value", "previous_value", "new_value"]
        otel.diagnosticLogger = .custom(Logger(label: logger.label) { _ in RedactingLogHandler(base: base, hiding: hiding) })
        otel.diagnosticLogLevel = .warning
        otel.metrics.enabled = false
        otel.logs.enabled = false
        otel.traces.enabled = true
        otel.traces.exporter = .otlp
        otel.traces.otlpExporter.endpoint = tracesURL(endpoint)
        otel.traces.otlpExporter.protocol = configuration.otlpJSON ? .httpJSON : .httpProtobuf
        let (tracer, service) = try OTel.makeTracingBackend(configuration: otel)
        return (TurnTracing(tracer: tracer), service)
    }

    /// The collector's traces URL: `endpoint` as given when it names `/v1/traces`, else with it appended.
    static func tracesURL(_ endpoint: String) -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base.hasSuffix("/v1/traces") ? base : base + "/v1/traces"
    }
}
