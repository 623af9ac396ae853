/// A `LineSource` fed by hand: `push` lines, then `finish` for the end of input.
///
/// One reader at a time (the prompt); any number of writers. Lines pushed wait in the queue
/// until read (it is meant for tests: nothing bounds it).
public final class LineQueue: LineSource {
    private let lines = LineHandOff()

    /// An empty queue.
    public init() {}

    /// Adds a line (as if typed and Enter pressed).
    public func push(_ line: String) {
        lines.deliver(.line(line))
    }

    /// Ends the input (as Ctrl-D would), after the lines already pushed.
    public func finish() {
        lines.deliver(.end)
    }

    /// The next line pushed; nil once `finish` was called and the lines before it were taken.
    public func nextLine() async throws -> String? {
        try await lines.nextLine()
    }
}
