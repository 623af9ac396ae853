/// The "thinking… 5s" line on standard error while a turn has not said anything yet.
///
/// On a terminal it is one line, rewritten in place (`\r`, then clear to the end of the line)
/// and erased when the answer begins, so it never mixes with the answer. When standard error is
/// not a terminal (a log file, a pipe) it stays quiet: rewriting a line there only leaves noise.
/// It returns the text to write instead of writing it, so it can be tested on its own.
public struct ThinkingIndicator: Sendable {
    /// Moves to the start of the line and clears it.
    static let clearLine = "\r\u{1B}[2K"

    /// True when standard error is a terminal.
    public let isTerminal: Bool
    /// True while the line is on screen.
    public private(set) var isShown = false

    /// An indicator for a terminal (`isTerminal`) or not.
    public init(isTerminal: Bool) {
        self.isTerminal = isTerminal
    }

    /// The text that shows the indicator, with the seconds the backend has been silent when
    /// known; nil when nothing is to be written.
    public mutating func show(seconds: Int?) -> String? {
        guard isTerminal else { return nil }
        isShown = true
        return Self.clearLine + "thinking…" + (seconds.map { " \($0)s" } ?? "")
    }

    /// The text that erases the indicator; nil when it is not shown.
    public mutating func clear() -> String? {
        guard isShown else { return nil }
        isShown = false
        return Self.clearLine
    }
}
