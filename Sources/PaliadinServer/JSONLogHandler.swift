import Foundation
import Logging
import PaliadinCore
import Synchronization

/// A swift-log handler that writes one JSON object per line, for log collectors (Loki,
/// Elasticsearch, CloudWatch, `jq`).
///
/// Each line has `time` (ISO 8601, UTC, milliseconds), `level`, `logger` (the label),
/// `message`, then the metadata as top-level fields (a metadata key that would shadow one of
/// those four is written as `meta.KEY`). Nested metadata becomes nested JSON. Each line goes to
/// the sink whole; the default sink writes one line at a time, so lines never interleave.
public struct JSONLogHandler: LogHandler {
    /// Where finished lines go (standard error by default).
    public typealias Sink = @Sendable (Data) -> Void

    private let label: String
    private let sink: Sink
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    /// Fields every line has; metadata does not overwrite them.
    static let reservedKeys: Set<String> = ["time", "level", "logger", "message"]

    /// - Parameters:
    ///   - label: the logger's label, written as `logger`.
    ///   - sink: receives each line, newline included.
    public init(label: String, sink: @escaping Sink = JSONLogHandler.standardError) {
        self.label = label
        self.sink = sink
    }

    /// Writes each line to standard error whole: one write at a time for the process, so a
    /// line longer than a pipe's atomic size is never split by another's.
    public static let standardError: Sink = { line in
        standardErrorLock.withLock { _ in FileHandle.standardError.write(line) }
    }

    private static let standardErrorLock = Mutex(())

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var object: [String: Any] = [
            "time": TimestampFormat.string(from: Date()),
            "level": event.level.rawValue,
            "logger": label,
            "message": event.message.description,
        ]
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        for (key, value) in merged {
            object[Self.reservedKeys.contains(key) ? "meta.\(key)" : key] = Self.json(value)
        }
        // Only strings, finite numbers, booleans, arrays and dictionaries of them: serialization cannot fail.
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        line.append(UInt8(ascii: "\n"))
        sink(line)
    }

    /// A metadata value as a JSON value.
    static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible):
            // Numbers and booleans stay numbers and booleans, for collectors that query them.
            switch convertible {
            case let number as Int: number
            case let number as Int64: number
            case let number as Double where number.isFinite: number
            case let flag as Bool: flag
            default: convertible.description
            }
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
