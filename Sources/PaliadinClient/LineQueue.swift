import Synchronization

/// A `LineSource` fed by hand: `push` lines, then `finish` for the end of input.
///
/// One reader at a time (the prompt); any number of writers.
public final class LineQueue: LineSource {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<String?, any Error>
    }

    private struct State {
        var lines: [String] = []
        var ended = false
        var nextWaiterID: UInt64 = 0
        var waiter: Waiter?
    }

    private let state = Mutex(State())

    /// An empty queue.
    public init() {}

    /// Adds a line (as if typed and Enter pressed).
    public func push(_ line: String) {
        let waiter = state.withLock { state -> Waiter? in
            guard !state.ended else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.lines.append(line)
            return nil
        }
        waiter?.continuation.resume(returning: line)
    }

    /// Ends the input (as Ctrl-D would), after the lines already pushed.
    public func finish() {
        let waiter = state.withLock { state -> Waiter? in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.continuation.resume(returning: nil)
    }

    /// The next line pushed; nil once `finish` was called and the lines before it were taken.
    public func nextLine() async throws -> String? {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<String?, any Error>) in
                let now: Result<String?, any Error>? = state.withLock { state in
                    if !state.lines.isEmpty { return .success(state.lines.removeFirst()) }
                    if state.ended { return .success(nil) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    precondition(state.waiter == nil, "a LineQueue has one reader at a time")
                    state.waiter = Waiter(id: id, continuation: continuation)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}
