/// How an operation raced against Ctrl-C ended (`ChatClient.racingInterrupts`).
enum Raced<Value: Sendable>: Sendable {
    /// The operation finished first.
    case finished(Value)
    /// Ctrl-C was pressed (the last time needed to leave) first; the operation was cancelled.
    case interrupted
}
