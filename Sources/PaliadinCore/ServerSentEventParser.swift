/// An incremental parser of a `text/event-stream` body, fed bytes as they arrive.
///
/// Follows the WHATWG rules (lines end in LF, CR or CRLF; `field: value`; a blank line
/// dispatches; comment lines start with `:`), and reports comment lines too, since
/// upstream servers use them as keep-alives. A line longer than `maxLineLength` is an error.
public struct ServerSentEventParser: Sendable {
    /// One dispatched event.
    public struct Event: Sendable, Equatable {
        public var name: String?
        public var data: String
        public var id: String?

        public init(name: String? = nil, data: String, id: String? = nil) {
            self.name = name
            self.data = data
            self.id = id
        }
    }

    /// What the parser found.
    public enum Item: Sendable, Equatable {
        case event(Event)
        case comment(String)
    }

    /// A line went past the length limit.
    public struct LineTooLong: Error, Equatable {
        public let limit: Int

        public init(limit: Int) { self.limit = limit }
    }

    public let maxLineLength: Int
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var name: String?
    private var data: [String] = []
    private var hasData = false
    private var id: String?
    /// The latest `retry:` field (milliseconds a client should wait before reconnecting), if any came.
    public private(set) var retryMilliseconds: Int?

    public init(maxLineLength: Int = 1 << 20) {
        self.maxLineLength = maxLineLength
    }

    /// Feeds the next bytes; returns what they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [Item] {
        let array = Array(bytes)
        return try array.withUnsafeBytes { try feed(buffer: $0) }
    }

    /// Feeds the next bytes straight from a buffer (the fast path: whole lines are copied at once).
    public mutating func feed(buffer: UnsafeRawBufferPointer) throws -> [Item] {
        var items: [Item] = []
        var index = 0
        let count = buffer.count
        while index < count {
            if lastWasCR {
                lastWasCR = false
                if buffer[index] == 0x0A {
                    index += 1
                    continue
                }
            }
            // Find the end of the line in this buffer.
            var end = index
            while end < count, buffer[end] != 0x0A, buffer[end] != 0x0D { end += 1 }
            let length = end - index
            guard line.count + length <= maxLineLength else { throw LineTooLong(limit: maxLineLength) }
            if length > 0 { line.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[index..<end])) }
            guard end < count else { break }
            if buffer[end] == 0x0D { lastWasCR = true }
            endLine(into: &items)
            index = end + 1
        }
        return items
    }

    /// The stream ended: an unterminated last line is processed, a half-built event is dropped (as the spec says).
    public mutating func finish() -> [Item] {
        var items: [Item] = []
        if !line.isEmpty {
            endLine(into: &items)
        }
        return items
    }

    private mutating func endLine(into items: inout [Item]) {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else {
            if hasData {
                items.append(.event(Event(name: name, data: data.joined(separator: "\n"), id: id)))
            }
            name = nil
            data.removeAll(keepingCapacity: true)
            hasData = false
            return
        }
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix(":") {
            items.append(.comment(String(text.dropFirst()).trimmingLeadingSpace()))
            return
        }
        let field: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = Substring(text)
            value = ""
        }
        switch field {
        case "data":
            data.append(String(value))
            hasData = true
        case "event":
            name = String(value)
        case "id":
            if !value.contains("\u{0}") { id = String(value) }
        case "retry":
            // ASCII digits only, as the spec says; anything else is ignored.
            if !value.isEmpty, value.count <= 12, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }) { retryMilliseconds = Int(value) }
        default:
            break
        }
    }
}

extension String {
    fileprivate func trimmingLeadingSpace() -> String {
        first == " " ? String(dropFirst()) : self
    }
}
