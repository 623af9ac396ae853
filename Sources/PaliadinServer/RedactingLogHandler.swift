import Logging

/// Wraps another log handler and hides the values of some metadata keys, for a library that
/// logs what it was configured with (swift-otel logs each `OTEL_*` variable it reads, headers
/// with credentials included).
struct RedactingLogHandler: LogHandler {
    /// What a hidden value is replaced by.
    static let hidden: Logger.Metadata.Value = "(hidden)"

    private var base: any LogHandler
    let hiddenKeys: Set<String>

    init(base: any LogHandler, hiding hiddenKeys: Set<String>) {
        self.base = base
        self.hiddenKeys = hiddenKeys
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = redacted(newValue) }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = hiddenKeys.contains(key) && newValue != nil ? Self.hidden : newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.metadata = event.metadata.map(redacted)
        base.log(event: event)
    }

    private func redacted(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var metadata = metadata
        for key in hiddenKeys where metadata[key] != nil { metadata[key] = Self.hidden }
        return metadata
    }
}
