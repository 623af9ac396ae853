/// How `paliadin serve` writes its log lines.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One human-readable line per message (swift-log's standard format).
    case text
    /// One JSON object per line, for log collectors.
    case json
}
