import Synchronization

/// Work that may outlive the call that started it (the start of a turn the user left before
/// it was known): `ChatClient.withClient` gives it a short grace before shutting the HTTP client down.
final class BackgroundJobs: Sendable {
    private struct State {
        var nextID: UInt64 = 0
        var tasks: [UInt64: Task<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// No work yet.
    init() {}

    /// Starts `body` in a task of its own.
    func run(_ body: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            state.nextID += 1
            let id = state.nextID
            state.tasks[id] = Task {
                await body()
                self.state.withLock { _ = $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    /// Waits for the work still running, at most `grace`; what is left then is cancelled (and
    /// awaited: it ends at once, its requests being cancelled).
    func finish(within grace: Duration) async {
        let tasks = state.withLock { Array($0.tasks.values) }
        guard !tasks.isEmpty else { return }
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for task in tasks { await task.value }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: grace)
                return false
            }
            if await group.next() == false {
                for task in tasks { task.cancel() }
            }
            group.cancelAll()
        }
    }
}
