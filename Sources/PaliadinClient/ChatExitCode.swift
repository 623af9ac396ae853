/// The exit status of `paliadin chat`, after the BSD `sysexits` conventions where one fits.
public enum ChatExitCode: Int32, Sendable, Equatable, CaseIterable {
    /// The turn ended with an answer (or the interactive prompt was left with `/quit` or Ctrl-D).
    case success = 0
    /// The turn ended with an `error` frame from the server (upstream error, silence, timeout, ...).
    case turnFailed = 1
    /// The command line or a setting was wrong (an unusable `--server`).
    case usage = 64
    /// The server refused the request as invalid (400, 413).
    case dataError = 65
    /// The server could not be reached, was unavailable (503), or the stream could not be resumed.
    case unavailable = 69
    /// Rate limited (429): trying again later may work.
    case temporaryFailure = 75
    /// The server answered something the client does not understand.
    case protocolError = 76
    /// No valid credentials (401), or the user is not an owner (404).
    case notPermitted = 77
    /// The turn was cancelled with Ctrl-C (the shell's code for SIGINT), or left with a second Ctrl-C.
    case cancelled = 130
}
