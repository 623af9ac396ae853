import Foundation

/// The identity of one turn: a UUID, written in lowercase in URLs and JSON.
public struct TurnID: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The underlying UUID.
    public let uuid: UUID

    /// A fresh random turn id.
    public init() { self.uuid = UUID() }

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }

    /// Parses a turn id; `nil` when the text is not a UUID.
    public init?(_ text: some StringProtocol) {
        guard let uuid = UUID(uuidString: String(text)) else { return nil }
        self.uuid = uuid
    }

    /// Lowercase canonical text, as used in URLs, JSON and the database.
    public var description: String { uuid.uuidString.lowercased() }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = TurnID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a turn id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
