/// A command typed at the interactive prompt instead of a question.
enum SlashCommand: Equatable, Sendable {
    /// `/new` (or `/reset`): a new conversation, in a new session (the old one is kept, and
    /// can be continued with `--session`).
    case new
    /// `/quit` (or `/exit`): leave.
    case quit
    /// `/help`: list the commands.
    case help
    /// Something else starting with `/`.
    case unknown(String)

    /// The command a line holds; nil for a question. `//text` asks `/text`.
    init?(_ line: String) {
        guard line.hasPrefix("/"), !line.hasPrefix("//") else { return nil }
        let word = line.dropFirst().split(separator: " ", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        switch word {
        case "new", "reset": self = .new
        case "quit", "exit", "q": self = .quit
        case "help", "?": self = .help
        default: self = .unknown(String(line.split(separator: " ").first ?? ""))
        }
    }

    /// The `/help` text.
    static let helpText = """
        /new   start a new conversation: a new session (the old one stays, for --session)
        /quit  leave (Ctrl-D too)
        /help  this list
        Ctrl-C stops the answer being written (the turn is cancelled on the server); Ctrl-C twice leaves at once.
        A line starting with // asks it with one / less.

        """
}
