import Synchronization

/// Lines going from a producer (a test, or the thread reading standard input) to the one task
/// that reads them, with the `LineSource` guarantee: a line is returned or kept, never lost.
///
/// `onDemand` is called when the reader waits and nothing is there nor on its way: a producer
/// that reads only when asked keeps at most one line ahead.
final class LineHandOff: Sendable {
    /// What the producer hands over.
    enum Item: Sendable, Equatable {
        case line(String)
        case tooLong(limit: Int)
        case end
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Item, any Error>
    }

    private struct State {
        /// Oldest first; `.end`, once there, stays last and is never taken away.
        var items: [Item] = []
        var nextWaiterID: UInt64 = 0
        var waiter: Waiter?
        /// `onDemand` was called and nothing was delivered since.
        var demanded = false

        mutating func take() -> Item? {
            guard let first = items.first else { return nil }
            if first != .end { items.removeFirst() }
            return first
        }
    }

    private let state = Mutex(State())
    private let onDemand: @Sendable () -> Void

    /// An empty hand-off; `onDemand` asks the producer for the next item.
    init(onDemand: @escaping @Sendable () -> Void = {}) {
        self.onDemand = onDemand
    }

    /// Hands an item over (to the waiting reader, else kept for the next call). Nothing after `.end` counts.
    func deliver(_ item: Item) {
        let waiter = state.withLock { state -> Waiter? in
            state.demanded = false
            guard state.items.last != .end else { return nil }
            if let waiter = state.waiter, state.items.isEmpty {
                state.waiter = nil
                if item == .end { state.items.append(.end) }
                return waiter
            }
            state.items.append(item)
            return nil
        }
        waiter?.continuation.resume(returning: item)
    }

    /// The next line; see `LineSource.nextLine()`.
    func nextLine() async throws -> String? {
        let id = state.withLock { state in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        var demand = false
        let item = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Item, any Error>) in
                let now: Result<Item, any Error>? = state.withLock { state in
                    if let item = state.take() { return .success(item) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    precondition(state.waiter == nil, "a LineSource has one reader at a time")
                    state.waiter = Waiter(id: id, continuation: continuation)
                    if !state.demanded {
                        state.demanded = true
                        demand = true
                    }
                    return nil
                }
                if let now { continuation.resume(with: now) }
                if demand { onDemand() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
        // Handed over just as the reader was cancelled: it stays for the next call.
        if Task.isCancelled, item != .end {
            state.withLock { $0.items.insert(item, at: 0) }
            throw CancellationError()
        }
        switch item {
        case .line(let line): return line
        case .tooLong(let limit): throw InputLineTooLong(limit: limit)
        case .end: return nil
        }
    }
}
