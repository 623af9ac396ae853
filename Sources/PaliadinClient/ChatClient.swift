import AsyncHTTPClient
import Foundation
import PaliadinCore

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
    /// Work that may outlive a call (cancelling a turn the user left while it was being started).
    let background: BackgroundJobs

    /// Runs `body` with a client, and shuts its HTTP client down afterwards (also when `body` throws).
    ///
    /// Work still going on for a turn the user left (see `ask`) gets `cleanupGrace` first. A
    /// failure to shut the HTTP client down is noted on standard error, and does not change the outcome.
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
            interrupts: interrupts, background: BackgroundJobs())
        let result: Result<T, any Error>
        do {
            result = .success(try await body(client))
        } catch {
            result = .failure(error)
        }
        await client.background.finish(within: configuration.cleanupGrace)
        do {
            try await httpClient.shutdown()
        } catch {
            output.write("paliadin: note: closing the HTTP client failed: \(error)\n", to: .standardError)
        }
        return try result.get()
    }

    /// A fresh session id (a lowercase UUID, as the server would make).
    public static func newSessionID() -> String {
        UUID().uuidString.lowercased()
    }

    /// Asks `question` in `sessionID` and prints the answer as it streams, then a line break.
    ///
    /// The first interrupt (not taken by anyone before) says so on standard error and cancels
    /// the turn on the server, in a task of its own; the stream is read on to its last frame
    /// (`error` with `cancelled`). A second interrupt returns at once (`abandoned`), whatever
    /// the cancel request is doing. When that happens before the server has answered the
    /// question, the turn is cancelled once it has started (in the background; `withClient`
    /// waits for that at most `cleanupGrace`). An error is printed on standard error as well as
    /// returned.
    public func ask(_ question: String, sessionID: String) async -> TurnResult {
        let printer = AnswerPrinter(output: output)
        let cancel = CancelRequest()
        let progress = TurnFollower.Progress()
        let started = startTurn(question, sessionID: sessionID, cancel: cancel)
        let raced = await racingInterrupts(leaveAt: 2) {
            guard let start = await started.value() else { return TurnEnding.abandoned }
            switch start {
            case .failure(let error):
                return .clientError(error)
            case .success(let turn):
                let follower = TurnFollower(api: api, policy: configuration.resume, printer: printer, turnID: turn.turnID, progress: progress)
                guard turn.action == .followAndCancel else { return await follower.follow() }
                // Ctrl-C came while the turn was being started: cancel it beside following it.
                return await withTaskGroup(of: TurnEnding?.self) { group in
                    group.addTask {
                        await sendCancel(turn.turnID, cancel: cancel, printer: printer)
                        return nil
                    }
                    group.addTask { await follower.follow() }
                    var ending: TurnEnding?
                    while ending == nil, let next = await group.next() { ending = next }
                    group.cancelAll()
                    return ending ?? .abandoned
                }
            }
        } onPress: { _ in
            printer.note("cancelling… (Ctrl-C again leaves without waiting)")
            if let turnID = cancel.interrupted() { await sendCancel(turnID, cancel: cancel, printer: printer) }
        } onLeave: {
            printer.close()
        }
        let ending: TurnEnding
        var stillStarting = false
        switch raced {
        case .finished(let finished):
            ending = finished
        case .interrupted:
            ending = .abandoned
            stillStarting = cancel.leave()
        }
        printer.close()
        report(ending, cancel: cancel, stillStarting: stillStarting)
        return TurnResult(turnID: cancel.turnID, sessionID: sessionID, ending: ending, resumes: progress.reconnections)
    }

    /// A turn started, and what to do about it.
    private struct Start: Sendable {
        var turnID: String
        var action: CancelRequest.StartAction
    }

    /// Starts the turn in the background: the request is not cut short when the user leaves,
    /// so that a turn the server starts anyway can be cancelled.
    private func startTurn(_ question: String, sessionID: String, cancel: CancelRequest) -> Eventual<Result<Start, ChatClientError>> {
        let started = Eventual<Result<Start, ChatClientError>>()
        background.run {
            let turn: StartedTurn
            do {
                turn = try await api.startTurn(message: question, sessionID: sessionID)
            } catch {
                started.fulfill(.failure(error as? ChatClientError ?? .unreachable(server: configuration.server, detail: "cancelled")))
                if !(error is ChatClientError), cancel.hasLeft {
                    // Cut short at the end of `cleanupGrace`.
                    output.write(
                        "paliadin: the server had not answered the question when the client left; the turn may run there\n",
                        to: .standardError)
                }
                return
            }
            let action = cancel.turnStarted(turn.turnID)
            started.fulfill(.success(Start(turnID: turn.turnID, action: action)))
            if action == .cancelLeftTurn { await cancelLeftTurn(turn.turnID) }
        }
        return started
    }

    /// Cancels a turn that the server started after the user had left.
    private func cancelLeftTurn(_ turnID: String) async {
        let message: String
        do {
            switch try await api.cancel(turnID, timeout: configuration.cleanupGrace) {
            case .stopping: message = "turn \(turnID) started as you left; it is cancelled"
            case .refused(let reason): message = "turn \(turnID) started as you left; the server did not cancel it: \(reason)"
            }
        } catch let error as ChatClientError {
            message = "turn \(turnID) started as you left, and could not be cancelled (\(error.shortDescription))"
        } catch {
            message = "turn \(turnID) started as you left, and may still run: cancelling it took too long"
        }
        output.write("paliadin: \(message)\n", to: .standardError)
    }

    /// Asks the server to stop the turn; a refusal or a failure is shown (unless the user has left by then).
    private func sendCancel(_ turnID: String, cancel: CancelRequest, printer: AnswerPrinter) async {
        do {
            switch try await api.cancel(turnID) {
            case .stopping:
                cancel.answered(.accepted)
            case .refused(let reason):
                cancel.answered(.refused)
                printer.note("paliadin: the server did not cancel the turn: \(reason)")
            }
        } catch let error as ChatClientError {
            printer.note("paliadin: could not cancel turn \(turnID) (\(error.shortDescription)); Ctrl-C again leaves without waiting")
        } catch {
            // Cancelled: the turn ended, or the user left.
        }
    }

    /// Tells how a turn that did not complete ended, on standard error.
    private func report(_ ending: TurnEnding, cancel: CancelRequest, stillStarting: Bool) {
        switch ending {
        case .completed:
            if cancel.wasWanted, cancel.answer != .refused {
                output.write("(the turn had ended before the cancel reached it)\n", to: .standardError)
            }
        case .cancelled:
            output.write("(cancelled)\n", to: .standardError)
        case .abandoned:
            let detail: String
            if stillStarting {
                detail = "; the turn had not started yet, and is cancelled if it does"
            } else if let turnID = cancel.turnID {
                switch cancel.answer {
                case .accepted: detail = "; turn \(turnID) is stopping on the server"
                case .refused: detail = ""
                case nil: detail = "; turn \(turnID) may still be running on the server"
                }
            } else {
                detail = ""
            }
            output.write("(left without waiting\(detail))\n", to: .standardError)
        case .failed(let code, let message, let retryable):
            let hint = retryable == true ? "; asking again may work" : ""
            output.write("paliadin: the turn failed (\(code)): \(message)\(hint)\n", to: .standardError)
        case .clientError(let error):
            output.write("paliadin: \(error)\n", to: .standardError)
        }
    }
}
