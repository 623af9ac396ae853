import ArgumentParser
import Foundation
import PaliadinClient
import PaliadinCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `paliadin chat`: the terminal client. One question, or an interactive prompt.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Ask Paliadin from the terminal: one question, or an interactive prompt.",
        discussion: """
            With a question, the answer streams to standard output as it arrives; while the backend \
            is silent, a "thinking… 5s" line shows on standard error when that is a terminal (nothing \
            is written there otherwise). A dropped connection is resumed by itself (Last-Event-ID), \
            printing nothing twice. Ctrl-C cancels the turn on the server (exit 130); Ctrl-C again \
            leaves at once. Without --session, the new session's id is shown on standard error at \
            the end, to continue it.

            Without a question, a prompt: each line is a turn of one session (its id is shown, to \
            continue later with --session, which also prints its earlier turns). /new starts a new \
            conversation in a new session (the old one stays), /quit or Ctrl-D leaves, /help lists \
            the commands; Ctrl-C cancels the running answer and comes back to the prompt.

            Exit status: 0 answered; 1 the turn failed; 64 bad settings; 65 request refused (400); \
            69 server unreachable or unavailable, or the stream could not be resumed; 75 rate \
            limited (429); 76 unexpected answer or unreadable stream; 77 bad token (401) or not an \
            owner (404); 130 cancelled.
            """)

    @Option(help: "Base URL of the Paliadin server. [env PALIADIN_SERVER, default http://127.0.0.1:8080]")
    var server: String?

    @Option(
        help: """
            Bearer token; prefer the environment variable, flags show in process lists. \
            [env PALIADIN_TOKEN; none needed in dev mode on this machine]
            """)
    var token: String?

    @Option(help: "Session to continue (its earlier turns are shown at the prompt). [default: a new session]")
    var session: String?

    @Option(help: "Named backend for the turns (see `paliadin backends`). [default: the server's default]")
    var backend: String?

    @Option(help: "Give up on a dropped stream after this long without getting through (ms, s, m). [default 60s]")
    var giveUpAfter: String?

    @Argument(help: "The question (several words are joined). Without one: an interactive prompt.")
    var question: [String] = []

    func validate() throws {
        if let giveUpAfter, DurationText.parse(giveUpAfter) == nil {
            throw ValidationError("--give-up-after takes a duration such as 30s or 2m, not '\(giveUpAfter)'")
        }
    }

    func run() async throws {
        var configuration: ChatConfiguration
        do {
            configuration = try ChatConfiguration.resolve(
                server: server, token: token, backend: backend, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("paliadin: \(error)\n".utf8))
            throw ExitCode(ChatExitCode.usage.rawValue)
        }
        if let giveUpAfter, let duration = DurationText.parse(giveUpAfter) { configuration.resume.giveUpAfter = duration }

        // Ctrl-C goes to the client (which cancels the turn) instead of ending the process.
        let interrupts = Interrupts()
        signal(SIGINT, SIG_IGN)
        let signals = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "paliadin.chat.signals"))
        // The source coalesces signals that arrive before its handler runs: `data` counts them.
        signals.setEventHandler { [signals] in
            for _ in 0..<max(Int(signals.data), 1) { interrupts.send() }
        }
        signals.resume()
        defer { signals.cancel() }

        let question = self.question.joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
        let session = self.session?.trimmingCharacters(in: .whitespaces).nilIfEmpty
        let code = try await ChatClient.withClient(configuration: configuration, interrupts: interrupts) { client in
            if question.isEmpty {
                return await client.interactive(lines: StandardInputLines(), sessionID: session)
            }
            let result = await client.ask(question, sessionID: session ?? ChatClient.newSessionID())
            if session == nil, result.turnID != nil {
                client.output.write(
                    "(session \(result.sessionID): continue it with --session \(result.sessionID))\n", to: .standardError)
            }
            return result.exitCode
        }
        if code != .success { throw ExitCode(code.rawValue) }
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { isEmpty ? nil : self }
}
