import PaliadinCore
import Synchronization

/// Prints one turn: the answer on standard output as it arrives, the thinking indicator and
/// notes on standard error, keeping the two apart on a terminal (the indicator is erased
/// before any answer text; a note made mid-line starts on a line of its own).
///
/// Used by the task that reads the stream and by the one that handles Ctrl-C, so its state
/// is behind a lock, and each write happens under it, in order. Once closed (the turn is over,
/// or the user left) it prints nothing more: a task still winding down cannot add to the output.
final class AnswerPrinter: Sendable {
    private struct State {
        var indicator: ThinkingIndicator
        /// Some answer text has been printed.
        var printedAnswer = false
        /// The answer printed so far does not end with a line break.
        var midLine = false
        /// `close()` was called.
        var closed = false
    }

    private let output: any ChatOutput
    private let state: Mutex<State>

    init(output: any ChatOutput) {
        self.output = output
        state = Mutex(State(indicator: ThinkingIndicator(isTerminal: output.errorIsTerminal)))
    }

    /// The turn has begun: the indicator shows at once, before the first `thinking` event.
    func started() {
        state.withLock { state in
            guard !state.closed, !state.printedAnswer, let text = state.indicator.show(seconds: nil) else { return }
            output.write(text, to: .standardError)
        }
    }

    /// The backend has been silent for a while; shown only until the answer begins.
    func thinking(_ payload: ThinkingPayload) {
        state.withLock { state in
            guard !state.closed, !state.printedAnswer, let text = state.indicator.show(seconds: payload.elapsedSeconds) else { return }
            output.write(text, to: .standardError)
        }
    }

    /// More of the answer.
    func content(_ text: String) {
        guard !text.isEmpty else { return }
        state.withLock { state in
            guard !state.closed else { return }
            if let clear = state.indicator.clear() { output.write(clear, to: .standardError) }
            output.write(text, to: .standardOutput)
            state.printedAnswer = true
            state.midLine = !text.hasSuffix("\n")
        }
    }

    /// The turn is over (or the user left): the indicator goes, an answer not ending in a line
    /// break gets one, and nothing more is printed.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            if let clear = state.indicator.clear() { output.write(clear, to: .standardError) }
            if state.midLine { output.write("\n", to: .standardOutput) }
            state.midLine = false
        }
    }

    /// A line on standard error, on a line of its own even in the middle of the answer.
    func note(_ message: String) {
        state.withLock { state in
            guard !state.closed else { return }
            let clear = state.indicator.clear()
            // Standard output is left as it is: the answer there stays exactly the answer.
            output.write((clear ?? "") + (state.midLine ? "\n" : "") + message + "\n", to: .standardError)
        }
    }
}
