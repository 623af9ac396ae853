/// The lines typed at the interactive prompt: standard input in the command, a `LineQueue` in tests.
public protocol LineSource: Sendable {
    /// The next line without its line break; nil at the end of input (Ctrl-D).
    ///
    /// A line is either returned or kept for the next call, never lost: when the waiting task
    /// is cancelled this throws `CancellationError`, and a line that arrives then (or after) is
    /// kept. A line longer than the source's limit is skipped, and reported by throwing
    /// `InputLineTooLong` (the next call goes on with the line after it).
    func nextLine() async throws -> String?
}

/// A line of input was longer than the source takes; it was skipped.
public struct InputLineTooLong: Error, Sendable, Equatable {
    /// The longest line taken, in bytes.
    public let limit: Int

    /// The error for a line over `limit` bytes.
    public init(limit: Int) {
        self.limit = limit
    }
}
