/// Ctrl-C while the client waits for the server: one helper for every request made while the
/// user watches (a turn, the session's history).
extension ChatClient {
    /// What a child task of `racingInterrupts` reports.
    private enum RaceEvent<Value: Sendable>: Sendable {
        case finished(Value)
        case press
        case nothing
    }

    /// Runs `operation` while watching for Ctrl-C.
    ///
    /// Presses before the `leaveAt`-th are each handed to `onPress` (with their number, from 1),
    /// in a child task of its own, so the next press is watched for at once, whatever `onPress`
    /// waits for. The `leaveAt`-th press calls `onLeave` at once, then returns `.interrupted`:
    /// `operation` and every `onPress` still running are cancelled (and must end promptly when
    /// they are: requests of AsyncHTTPClient do). A press taken in the moment `operation`
    /// finished is given back, for whoever asks for Ctrl-C next (the prompt).
    func racingInterrupts<Value: Sendable>(
        leaveAt: Int = 1,
        _ operation: @escaping @Sendable () async -> Value,
        onPress: @escaping @Sendable (Int) async -> Void = { _ in },
        onLeave: () -> Void = {}
    ) async -> Raced<Value> {
        let interrupts = self.interrupts
        return await withTaskGroup(of: RaceEvent<Value>.self) { group in
            group.addTask { .finished(await operation()) }
            group.addTask { await interrupts.next() ? .press : .nothing }
            var presses = 0
            var outcome: Raced<Value>?
            while outcome == nil, let event = await group.next() {
                switch event {
                case .finished(let value):
                    outcome = .finished(value)
                case .press:
                    presses += 1
                    if presses >= leaveAt {
                        // Before the tasks wind down: nothing they still do may print as if the user had stayed.
                        onLeave()
                        outcome = .interrupted
                    } else {
                        let number = presses
                        group.addTask { await interrupts.next() ? .press : .nothing }
                        group.addTask {
                            await onPress(number)
                            return .nothing
                        }
                    }
                case .nothing:
                    break
                }
            }
            group.cancelAll()
            // Wind down: a press taken while the operation finished was not acted on.
            while let event = await group.next() {
                if case .press = event { interrupts.putBack() }
            }
            return outcome ?? .interrupted
        }
    }
}
