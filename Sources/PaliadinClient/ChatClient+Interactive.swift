import Foundation

/// The interactive prompt: each line is a turn of one session.
extension ChatClient {
    /// What the prompt got.
    private enum PromptInput: Sendable {
        case line(String)
        case endOfInput
        case interrupt
    }

    /// The prompt written before each line (on standard error, so standard output holds only answers).
    static let prompt = "> "

    /// Runs the interactive prompt until `/quit`, the end of `lines` (Ctrl-D), or a second
    /// Ctrl-C in a row, and returns the exit status.
    ///
    /// Continuing `sessionID`, it prints the session's earlier turns first; without one it
    /// starts a new session. The session id is shown at the start, for `--session` later.
    /// Ctrl-C while an answer streams cancels that turn and comes back to the prompt.
    /// Credentials that do not work end the prompt with their error's status.
    public func interactive(lines: some LineSource, sessionID: String? = nil) async -> ChatExitCode {
        var session = sessionID ?? Self.newSessionID()
        // Also tells at once whether the server is there and lets this user in.
        do {
            let past = try await api.history(sessionID: session)
            for turn in past { printPast(turn) }
        } catch let error as ChatClientError {
            output.write("paliadin: \(error)\n", to: .standardError)
            return error.exitCode
        } catch {
            return .cancelled
        }
        let verb = sessionID == nil ? "new session" : "session"
        output.write(
            "Paliadin at \(configuration.server), \(verb) \(session) (continue it later with --session \(session)).\n"
                + "Type a question; /help lists the commands; Ctrl-D leaves.\n",
            to: .standardError)
        var interruptsInARow = 0
        while true {
            // Counted before the prompt shows: a Ctrl-C pressed once it shows is one for the prompt.
            let seen = interrupts.count
            output.write(Self.prompt, to: .standardError)
            switch await nextInput(lines, interruptsSeen: seen) {
            case .endOfInput:
                output.write("\n", to: .standardError)
                return .success
            case .interrupt:
                interruptsInARow += 1
                if interruptsInARow >= 2 {
                    output.write("\n", to: .standardError)
                    return .cancelled
                }
                output.write("\n(Ctrl-C again or Ctrl-D leaves)\n", to: .standardError)
            case .line(let text):
                interruptsInARow = 0
                let line = text.trimmingCharacters(in: .whitespaces)
                if line.isEmpty { continue }
                switch SlashCommand(line) {
                case .quit:
                    return .success
                case .help:
                    output.write(SlashCommand.helpText, to: .standardError)
                case .new:
                    do {
                        try await api.reset()
                        session = Self.newSessionID()
                        output.write("new session \(session)\n", to: .standardError)
                    } catch let error as ChatClientError {
                        output.write("paliadin: \(error)\n", to: .standardError)
                        if error.endsSession { return error.exitCode }
                    } catch {
                        return .cancelled
                    }
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

    /// The next line, the end of input, or a Ctrl-C after the first `seen`, whichever comes first.
    private func nextInput(_ lines: some LineSource, interruptsSeen seen: Int) async -> PromptInput {
        let interrupts = self.interrupts
        return await withTaskGroup(of: PromptInput?.self) { group in
            group.addTask {
                do {
                    return try await lines.nextLine().map(PromptInput.line) ?? .endOfInput
                } catch {
                    // Cancelled because Ctrl-C came first; any other failure of the input ends it.
                    return Task.isCancelled ? nil : .endOfInput
                }
            }
            group.addTask { await interrupts.wait(after: seen) ? .interrupt : nil }
            var first: PromptInput?
            while first == nil, let next = await group.next() { first = next }
            group.cancelAll()
            return first ?? .endOfInput
        }
    }

    /// One earlier turn of the session, as it was asked and answered.
    private func printPast(_ turn: TurnSummary) {
        var text = Self.prompt + (turn.userMessage ?? "") + "\n" + turn.response
        if !turn.response.isEmpty && !turn.response.hasSuffix("\n") { text += "\n" }
        output.write(text, to: .standardOutput)
        if turn.status != "completed" {
            let reason = turn.status == "running" ? "still running" : turn.errorCode ?? turn.status
            output.write("(\(reason))\n", to: .standardError)
        }
    }
}
