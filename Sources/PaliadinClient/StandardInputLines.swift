import Foundation
import Synchronization

/// Standard input as a `LineSource`: a thread of its own reads lines (blocking reads must not
/// hold a task's thread) from the first request on, so lines typed while an answer streams
/// wait their turn, as a shell's type-ahead does.
public final class StandardInputLines: LineSource {
    private let lines = LineQueue()
    private let started = Mutex(false)

    /// Reads the process's standard input.
    public init() {}

    /// The next line of standard input; nil at its end (Ctrl-D at a terminal).
    public func nextLine() async throws -> String? {
        let start = started.withLock { started in
            defer { started = true }
            return !started
        }
        if start {
            let lines = self.lines
            Thread.detachNewThread {
                while let line = readLine(strippingNewline: true) { lines.push(line) }
                lines.finish()
            }
        }
        return try await lines.nextLine()
    }
}
