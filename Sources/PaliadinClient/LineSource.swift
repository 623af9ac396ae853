/// The lines typed at the interactive prompt: standard input in the command, a `LineQueue` in tests.
public protocol LineSource: Sendable {
    /// The next line without its line break; nil at the end of input (Ctrl-D). Throws
    /// `CancellationError` when the waiting task is cancelled; a line that arrives after that
    /// is kept for the next call.
    func nextLine() async throws -> String?
}
