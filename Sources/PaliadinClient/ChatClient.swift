import AsyncHTTPClient
import Foundation

/// The terminal client of a Paliadin server: asks a question, prints the answer as it
/// streams, resumes a dropped stream by itself, and cancels the turn on Ctrl-C.
///
/// Create one with `withClient`, which owns the HTTP client and shuts it down.
public struct ChatClient: Sendable {
    /// Server, token, backend and patience.
    public let configuration: ChatConfiguration
    /// The server's chat routes.
    public let api: PaliadinAPI
    /// Where the answer and everything else are printed.
    public let output: any ChatOutput
    /// Ctrl-C presses.
    public let interrupts: Interrupts

    /// Runs `body` with a client, and shuts its HTTP client down afterwards (also when `body` throws).
    public static func withClient<T: Sendable>(
        configuration: ChatConfiguration, output: any ChatOutput = StandardChatOutput(), interrupts: Interrupts = Interrupts(),
        _ body: (ChatClient) async throws -> T
    ) async throws -> T {
        var http = HTTPClient.Configuration()
        http.timeout = .init(
            connect: PaliadinAPI.timeAmount(configuration.connectTimeout), read: PaliadinAPI.timeAmount(configuration.streamIdleTimeout))
        // The client retries streams itself; a refused connection should fail at once, not after the connect timeout.
        http.connectionPool.retryConnectionEstablishment = false
        let httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        let client = ChatClient(
            configuration: configuration, api: PaliadinAPI(httpClient: httpClient, configuration: configuration), output: output,
            interrupts: interrupts)
        let result: T
        do {
            result = try await body(client)
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        return result
    }

    /// A fresh session id (a lowercase UUID, as the server would make).
    public static func newSessionID() -> String {
        UUID().uuidString.lowercased()
    }

    /// Asks `question` in `sessionID` and prints the answer as it streams, then a line break.
    ///
    /// The first interrupt cancels the turn on the server; the stream is read on to its last
    /// frame (`error` with `cancelled`). A second interrupt returns at once (`abandoned`). An
    /// error is printed on standard error as well as returned.
    public func ask(_ question: String, sessionID: String) async -> TurnResult {
        let seen = interrupts.count
        let printer = AnswerPrinter(output: output)
        let cancel = CancelRequest()
        let outcome = await withTaskGroup(of: AskOutcome?.self) { group in
            group.addTask {
                let started: StartedTurn
                do {
                    started = try await api.startTurn(message: question, sessionID: sessionID)
                } catch let error as ChatClientError {
                    return AskOutcome(turnID: nil, ending: .clientError(error), resumes: 0)
                } catch {
                    return AskOutcome(turnID: nil, ending: .abandoned, resumes: 0)
                }
                if cancel.turnStarted(started.turnID) {
                    // Ctrl-C came while the turn was being started.
                    await requestCancel(started.turnID, printer: printer)
                }
                let followed = await TurnFollower(api: api, policy: configuration.resume, printer: printer, turnID: started.turnID).follow()
                return AskOutcome(turnID: started.turnID, ending: followed.ending, resumes: followed.resumes)
            }
            group.addTask {
                guard await interrupts.wait(after: seen) else { return nil }
                if let turnID = cancel.interrupted() { await requestCancel(turnID, printer: printer) }
                guard await interrupts.wait(after: seen + 1) else { return nil }
                return AskOutcome(turnID: cancel.turnID, ending: .abandoned, resumes: 0)
            }
            // The turn's end, or a second interrupt: whichever comes first.
            var first: AskOutcome?
            while first == nil, let next = await group.next() { first = next }
            group.cancelAll()
            return first ?? AskOutcome(turnID: cancel.turnID, ending: .abandoned, resumes: 0)
        }
        printer.finishLine()
        report(outcome)
        return TurnResult(turnID: outcome.turnID, sessionID: sessionID, ending: outcome.ending, resumes: outcome.resumes)
    }

    /// Asks the server to stop the turn; a failure is shown, and Ctrl-C again still leaves.
    private func requestCancel(_ turnID: String, printer: AnswerPrinter) async {
        do {
            try await api.cancel(turnID)
        } catch is CancellationError {
        } catch {
            printer.note("paliadin: could not cancel the turn: \(error); Ctrl-C again leaves without waiting")
        }
    }

    /// Tells how a turn that did not complete ended, on standard error.
    private func report(_ outcome: AskOutcome) {
        switch outcome.ending {
        case .completed:
            break
        case .cancelled:
            output.write("(cancelled)\n", to: .standardError)
        case .abandoned:
            let turn = outcome.turnID.map { "; turn \($0) may still be stopping on the server" } ?? ""
            output.write("(left without waiting\(turn))\n", to: .standardError)
        case .failed(let code, let message, let retryable):
            let hint = retryable == true ? "; asking again may work" : ""
            output.write("paliadin: the turn failed (\(code)): \(message)\(hint)\n", to: .standardError)
        case .clientError(let error):
            output.write("paliadin: \(error)\n", to: .standardError)
        }
    }
}

/// One `ask` as its tasks see it.
private struct AskOutcome: Sendable {
    var turnID: String?
    var ending: TurnEnding
    var resumes: Int
}
