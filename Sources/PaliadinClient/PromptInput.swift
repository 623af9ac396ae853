/// What the interactive prompt got.
enum PromptInput: Sendable, Equatable {
    /// A line, Enter pressed.
    case line(String)
    /// A line too long to take (skipped).
    case tooLong(limit: Int)
    /// The end of input (Ctrl-D), or input that cannot be read any more.
    case endOfInput
    /// Ctrl-C.
    case interrupt
}
