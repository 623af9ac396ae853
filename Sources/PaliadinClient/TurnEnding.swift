/// How one turn ended, as far as the terminal client is concerned.
public enum TurnEnding: Sendable, Equatable {
    /// The `end` frame: the whole answer was printed.
    case completed
    /// An `error` frame other than `cancelled`.
    case failed(code: String, message: String, retryable: Bool?)
    /// The turn was cancelled (by Ctrl-C here, or by a cancel from elsewhere).
    case cancelled
    /// A second Ctrl-C: the client left without waiting for the turn's last frame.
    case abandoned
    /// The client could not start or follow the turn.
    case clientError(ChatClientError)

    /// The exit status this ending gives the command.
    public var exitCode: ChatExitCode {
        switch self {
        case .completed: .success
        case .failed: .turnFailed
        case .cancelled, .abandoned: .cancelled
        case .clientError(let error): error.exitCode
        }
    }
}
