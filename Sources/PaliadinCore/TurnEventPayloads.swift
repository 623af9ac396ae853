import Foundation

/// Payload of the `meta` event, always the first of a turn.
public struct MetaPayload: Codable, Sendable, Equatable {
    public var turnID: TurnID
    public var startedAt: Date

    public init(turnID: TurnID, startedAt: Date) {
        self.turnID = turnID
        self.startedAt = startedAt
    }

    enum CodingKeys: String, CodingKey {
        case turnID = "turn_id"
        case startedAt = "started_at"
    }
}

/// Payload of a `thinking` event, sent while the backend is silent.
public struct ThinkingPayload: Codable, Sendable, Equatable {
    public var elapsedSeconds: Int
    public var sinceFirst: Bool
    /// True when the backend itself sent the heartbeat.
    public var upstream: Bool?

    public init(elapsedSeconds: Int, sinceFirst: Bool, upstream: Bool? = nil) {
        self.elapsedSeconds = elapsedSeconds
        self.sinceFirst = sinceFirst
        self.upstream = upstream
    }

    enum CodingKeys: String, CodingKey {
        case elapsedSeconds = "elapsed_seconds"
        case sinceFirst = "since_first"
        case upstream
    }
}

/// Payload of a `content` event: a streamed `delta`, or the whole `text` of a one-shot backend.
public struct ContentPayload: Codable, Sendable, Equatable {
    public var delta: String?
    public var streamed: Bool?
    public var text: String?

    /// A piece of a streamed answer.
    public static func delta(_ delta: String) -> ContentPayload {
        ContentPayload(delta: delta, streamed: true, text: nil)
    }

    /// The whole answer of a one-shot backend.
    public static func whole(_ text: String) -> ContentPayload {
        ContentPayload(delta: nil, streamed: nil, text: text)
    }

    /// The text this event adds to the answer.
    public var addedText: String { delta ?? text ?? "" }
}

/// Payload of the `end` event, the last event of a turn that produced an answer.
public struct EndPayload: Codable, Sendable, Equatable {
    public var turnID: TurnID
    public var usedTools: [String]
    public var rowsSeen: [Int]
    public var chipCount: Int
    public var classifierTag: String
    public var durationMS: Int
    public var ttftMS: Int?
    public var streamed: Bool
    public var tokensIn: Int?
    public var tokensOut: Int?
    public var conversationID: String?

    public init(
        turnID: TurnID, usedTools: [String], rowsSeen: [Int], chipCount: Int, classifierTag: String,
        durationMS: Int, ttftMS: Int?, streamed: Bool, tokensIn: Int?, tokensOut: Int?, conversationID: String?
    ) {
        self.turnID = turnID
        self.usedTools = usedTools
        self.rowsSeen = rowsSeen
        self.chipCount = chipCount
        self.classifierTag = classifierTag
        self.durationMS = durationMS
        self.ttftMS = ttftMS
        self.streamed = streamed
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.conversationID = conversationID
    }

    enum CodingKeys: String, CodingKey {
        case turnID = "turn_id"
        case usedTools = "used_tools"
        case rowsSeen = "rows_seen"
        case chipCount = "chip_count"
        case classifierTag = "classifier_tag"
        case durationMS = "duration_ms"
        case ttftMS = "ttft_ms"
        case streamed
        case tokensIn = "tokens_in"
        case tokensOut = "tokens_out"
        case conversationID = "conversation_id"
    }
}

/// Payload of the `error` event, the last event of a turn that did not end well.
public struct ErrorPayload: Codable, Sendable, Equatable, Error {
    public var code: String
    public var message: String
    public var retryable: Bool?

    public init(code: String, message: String, retryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }
}

/// Encodes event payloads the one way every part of Paliadin shares (RFC 3339 dates, sorted keys).
public enum PayloadCoding {
    /// One encoder for all: `JSONEncoder` is `Sendable` and keeps no state between calls.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(TimestampFormat.string(from: date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = TimestampFormat.date(from: text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad timestamp \(text)"))
            }
            return date
        }
        return decoder
    }()

    /// Encodes a payload to JSON text.
    public static func encode(_ value: some Encodable) -> String {
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            // Our payload types hold only strings, numbers, dates and JSON values: encoding cannot fail.
            preconditionFailure("payload encoding failed: \(error)")
        }
    }

    /// Decodes a payload from JSON text.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }
}
