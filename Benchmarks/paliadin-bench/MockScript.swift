/// What the mock upstream answers to one request, read from the last user message:
/// `bench:chunks=N [interval=Xms] [first=Yms] [tag=NAME]`.
///
/// - no `interval`: **burst**, all `N` content chunks written then flushed once;
/// - `interval=Xms`: **paced**, one content chunk every `X` ms, each flushed;
/// - `first=Yms`: the first content chunk comes `Y` ms after the response head;
/// - `tag=NAME`: the mock records when it flushed the first content chunk.
struct MockScript: Equatable, Sendable {
    var chunks = 3
    var intervalMS = 0.0
    var firstMS = 0.0
    var tag: String?

    init(chunks: Int = 3, intervalMS: Double = 0, firstMS: Double = 0, tag: String? = nil) {
        self.chunks = chunks
        self.intervalMS = intervalMS
        self.firstMS = firstMS
        self.tag = tag
    }

    /// Parses a user message; words it does not know are ignored.
    init(message: Substring) {
        for word in message.split(separator: " ") {
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = word[..<equals].replacing("bench:", with: "")
            let value = word[word.index(after: equals)...]
            switch key {
            case "chunks": chunks = max(0, Int(value) ?? chunks)
            case "interval": intervalMS = Self.milliseconds(value) ?? intervalMS
            case "first": firstMS = Self.milliseconds(value) ?? firstMS
            case "tag": tag = String(value)
            default: break
            }
        }
    }

    /// The message that asks for this script.
    var message: String {
        var words = ["bench:chunks=\(chunks)"]
        if intervalMS > 0 { words.append("interval=\(Self.format(intervalMS))ms") }
        if firstMS > 0 { words.append("first=\(Self.format(firstMS))ms") }
        if let tag { words.append("tag=\(tag)") }
        return words.joined(separator: " ")
    }

    /// `20ms`, `1.5ms`, `2s` or a plain number of milliseconds.
    private static func milliseconds(_ text: Substring) -> Double? {
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) }
        if text.hasSuffix("s") { return Double(text.dropLast(1)).map { $0 * 1000 } }
        return Double(text)
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
