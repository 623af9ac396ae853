import Foundation

/// The interactive prompt: each line is a turn of one session.
extension ChatClient {
    /// The prompt written before each line (on standard error, so standard output holds only answers).
    static let prompt = "> "

    /// How many earlier turns of a continued session are shown.
    static let historyShown = 50

    /// Runs the interactive prompt until `/quit`, the end of `lines` (Ctrl-D), or a second
    /// Ctrl-C in a row, and returns the exit status.
    ///
    /// Continuing `sessionID`, it prints the session's earlier turns first (the last
    /// `historyShown`): each question after the prompt, and its answer, on standard output as
    /// the answers of this run are; how a turn that did not complete ended goes to standard
    /// error. Without one it starts a new session. The session id is shown at the start, for
    /// `--session` later. Ctrl-C while an answer streams cancels that turn and comes back to the
    /// prompt; Ctrl-C while the history loads leaves. Credentials that do not work end the
    /// prompt with their error's status.
    public func interactive(lines: some LineSource, sessionID: String? = nil) async -> ChatExitCode {
        var session = sessionID ?? Self.newSessionID()
        // Also tells at once whether the server is there and lets this user in.
        let limit = Self.historyShown
        let history = await racingInterrupts { [api, session] () -> Result<[TurnSummary], any Error> in
            do {
                return .success(try await api.history(sessionID: session, limit: limit))
            } catch {
                return .failure(error)
            }
        }
        switch history {
        case .interrupted:
            output.write("\n", to: .standardError)
            return .cancelled
        case .finished(.failure(let error as ChatClientError)):
            output.write("paliadin: \(error)\n", to: .standardError)
            return error.exitCode
        case .finished(.failure):
            return .cancelled
        case .finished(.success(let past)):
            if past.count >= limit { output.write("(showing the last \(limit) turns of the session)\n", to: .standardError) }
            for turn in past { printPast(turn) }
        }
        let verb = sessionID == nil ? "new session" : "session"
        output.write(
            "Paliadin at \(configuration.server), \(verb) \(session) (continue it later with --session \(session)).\n"
                + "Type a question; /help lists the commands; Ctrl-D leaves.\n",
            to: .standardError)
        var input = PromptReader(lines: lines, interrupts: interrupts)
        var interruptsInARow = 0
        while true {
            output.write(Self.prompt, to: .standardError)
            let next = await input.next()
            if next == .interrupt {
                interruptsInARow += 1
                if interruptsInARow >= 2 {
                    output.write("\n", to: .standardError)
                    return .cancelled
                }
                output.write("\n(Ctrl-C again or Ctrl-D leaves)\n", to: .standardError)
                continue
            }
            interruptsInARow = 0
            switch next {
            case .interrupt:
                break
            case .endOfInput:
                output.write("\n", to: .standardError)
                return .success
            case .tooLong(let limit):
                output.write("paliadin: that line is longer than \(TurnFollower.size(limit)); it was not sent\n", to: .standardError)
            case .line(let text):
                let line = text.trimmingCharacters(in: .whitespaces)
                if line.isEmpty { continue }
                switch SlashCommand(line) {
                case .quit:
                    return .success
                case .help:
                    output.write(SlashCommand.helpText, to: .standardError)
                case .new:
                    // Earlier exchanges are kept per session: a new session id is a new conversation.
                    session = Self.newSessionID()
                    output.write("new session \(session) (continue it later with --session \(session))\n", to: .standardError)
                case .unknown(let word):
                    output.write("unknown command \(word); /help lists them\n", to: .standardError)
                case nil:
                    let question = line.hasPrefix("//") ? String(line.dropFirst()) : line
                    let result = await ask(question, sessionID: session)
                    switch result.ending {
                    case .abandoned:
                        return .cancelled
                    case .clientError(let error) where error.endsSession:
                        return error.exitCode
                    default:
                        break
                    }
                }
            }
        }
    }

    /// One earlier turn of the session, as it was asked and answered.
    private func printPast(_ turn: TurnSummary) {
        var text = Self.prompt + (turn.userMessage ?? "") + "\n" + turn.response
        if !turn.response.isEmpty && !turn.response.hasSuffix("\n") { text += "\n" }
        output.write(text, to: .standardOutput)
        switch turn.status {
        case .completed: break
        case .running: output.write("(still running)\n", to: .standardError)
        default: output.write("(\(turn.errorCode ?? turn.status.text))\n", to: .standardError)
        }
    }
}
