import AsyncHTTPClient
import NIOCore
import PaliadinCore

/// Follows one turn's stream to its last frame, printing as it goes, and resumes it with
/// `Last-Event-ID` whenever a connection fails or ends early.
struct TurnFollower: Sendable {
    /// How following ended.
    struct Outcome: Sendable {
        var ending: TurnEnding
        /// Connections opened after the first one.
        var resumes: Int
    }

    let api: PaliadinAPI
    let policy: ResumePolicy
    let printer: AnswerPrinter
    let turnID: String

    func follow() async -> Outcome {
        var state = TurnStreamState()
        // The server's `retry:` hint, kept from one connection to the next.
        var retryHint: Duration?
        var connections = 0
        var failures = 0
        var outageStart: ContinuousClock.Instant?
        var problem = ""
        var warned = false
        let clock = ContinuousClock()
        while true {
            connections += 1
            let seenBefore = state.lastEventID
            do {
                switch try await api.openStream(turnID: turnID, after: state.lastEventID) {
                case .complete:
                    return Outcome(ending: await endingFromRow(), resumes: connections - 1)
                case .events(let body):
                    var parser = ServerSentEventParser()
                    for try await buffer in body {
                        let items = try parser.feed(buffer.readableBytesView)
                        if let milliseconds = parser.retryMilliseconds { retryHint = .milliseconds(milliseconds) }
                        for item in items {
                            guard case .event(let event) = item else { continue }
                            let action = state.handle(event)
                            if state.lastEventID != seenBefore {
                                // A new event: this connection works, whatever happened before.
                                failures = 0
                                outageStart = nil
                                warned = false
                            }
                            switch action {
                            case .none: break
                            case .started: printer.started()
                            case .thinking(let payload): printer.thinking(payload)
                            case .content(let text): printer.content(text)
                            case .finished(let ending): return Outcome(ending: ending, resumes: connections - 1)
                            }
                        }
                    }
                    problem = "the stream ended before the turn did"
                }
            } catch let error as ChatClientError where !error.isRetryableOnStream {
                return Outcome(ending: .clientError(error), resumes: connections - 1)
            } catch let error as ChatClientError {
                if case .unreachable(_, let detail) = error { problem = detail } else { problem = error.description }
            } catch {
                problem = TransportErrorDescription.describe(error)
            }
            if Task.isCancelled { return Outcome(ending: .abandoned, resumes: connections - 1) }
            failures += 1
            let now = clock.now
            let start = outageStart ?? now
            outageStart = start
            if now - start >= policy.giveUpAfter {
                return Outcome(
                    ending: .clientError(.streamLost(turnID: turnID, gaveUpAfter: policy.giveUpAfter, detail: problem)),
                    resumes: connections - 1)
            }
            // A single drop is mended quietly; say something when it does not mend at once.
            if failures >= 2 && !warned {
                warned = true
                printer.note("paliadin: the connection dropped (\(problem)); reconnecting…")
            }
            do {
                try await Task.sleep(for: policy.delay(retryHint: retryHint, consecutiveFailures: failures))
            } catch {
                return Outcome(ending: .abandoned, resumes: connections - 1)
            }
        }
    }

    /// How the turn ended, from its row: asked when the server says the reader has every event.
    private func endingFromRow() async -> TurnEnding {
        do {
            let row = try await api.turn(turnID)
            return row.ending ?? .failed(code: "running", message: "the server says the stream is complete, but the turn still runs", retryable: nil)
        } catch let error as ChatClientError {
            return .clientError(error)
        } catch {
            return .abandoned
        }
    }
}
