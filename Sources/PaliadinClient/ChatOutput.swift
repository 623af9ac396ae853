/// The two streams the client prints to.
public enum ChatOutputStream: Sendable, Equatable {
    /// The answer, and nothing else (so `paliadin chat "q" > answer.txt` holds just the answer);
    /// at the interactive prompt, the answers, and first the earlier turns of a continued
    /// session (each question after `> `, then its answer), so the conversation can be saved whole.
    case standardOutput
    /// The thinking indicator, the prompt, notes and errors.
    case standardError
}

/// Where the client prints. The terminal in the command; a recorder in tests.
///
/// Writes must reach their destination at once and in order (a streamed answer shows as it
/// arrives), and may come from more than one task.
public protocol ChatOutput: Sendable {
    /// Writes `text` to `stream`, unbuffered.
    func write(_ text: String, to stream: ChatOutputStream)
    /// True when standard error is a terminal: the thinking indicator then rewrites one line.
    var errorIsTerminal: Bool { get }
}
