import AsyncHTTPClient
import NIOCore
import PaliadinCore
import Synchronization

/// Follows one turn's stream to its last frame, printing as it goes, and resumes it with
/// `Last-Event-ID` whenever a connection fails or ends early.
struct TurnFollower: Sendable {
    /// What following has done so far, readable while it runs (and after it was cancelled).
    final class Progress: Sendable {
        private let count = Mutex(0)

        /// Times the stream was opened again (an answer of 200 or 204) after the first time.
        var reconnections: Int { count.withLock { $0 } }

        func reconnected() { count.withLock { $0 += 1 } }
    }

    let api: PaliadinAPI
    let policy: ResumePolicy
    let printer: AnswerPrinter
    let turnID: String
    let progress: Progress

    /// Follows the stream to the turn's end; `.abandoned` when the task is cancelled first.
    func follow() async -> TurnEnding {
        var state = TurnStreamState()
        // The server's `retry:` hint, kept from one connection to the next.
        var retryHint: Duration?
        var openings = 0
        var failures = 0
        var outageStart: ContinuousClock.Instant?
        var problem = ""
        var warned = false
        let clock = ContinuousClock()
        while true {
            do {
                let opening = try await api.openStream(turnID: turnID, after: state.lastEventID)
                openings += 1
                if openings > 1 { progress.reconnected() }
                switch opening {
                case .complete:
                    return await endingFromRow()
                case .events(let body):
                    state.connectionOpened()
                    var parser = ServerSentEventParser(maxLineLength: api.configuration.maxStreamLineLength)
                    for try await buffer in body {
                        let items = try parser.feed(buffer.readableBytesView)
                        if let milliseconds = parser.retryMilliseconds { retryHint = .milliseconds(milliseconds) }
                        for item in items {
                            guard case .event(let event) = item else { continue }
                            let action = state.handle(event)
                            if state.newOnConnection > 0 {
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
                            case .finished(let ending): return ending
                            }
                        }
                    }
                    // The server closed a stream that brought nothing new (only what the reader
                    // had): it may know the turn has ended without a last frame to send.
                    if state.connectionBroughtNothingNew, let ending = await endingIfFinished() { return ending }
                    problem = "the stream ended before the turn did"
                }
            } catch let error as ServerSentEventParser.LineTooLong {
                return .clientError(.malformedStream(turnID: turnID, detail: "it has a line longer than \(Self.size(error.limit))"))
            } catch let error as ChatClientError where !error.isRetryableOnStream {
                return .clientError(error)
            } catch let error as ChatClientError {
                problem = error.shortDescription
            } catch {
                problem = TransportErrorDescription.describe(error)
            }
            if Task.isCancelled { return .abandoned }
            failures += 1
            let now = clock.now
            let start = outageStart ?? now
            outageStart = start
            if now - start >= policy.giveUpAfter {
                return .clientError(.streamLost(turnID: turnID, gaveUpAfter: policy.giveUpAfter, detail: problem))
            }
            // A single drop is mended quietly; say something when it does not mend at once.
            if failures >= 2 && !warned {
                warned = true
                printer.note("paliadin: the connection dropped (\(problem)); reconnecting…")
            }
            do {
                try await Task.sleep(for: policy.delay(retryHint: retryHint, consecutiveFailures: failures))
            } catch {
                return .abandoned
            }
        }
    }

    /// A number of bytes in the largest whole unit: `64 MiB`, `1 KiB`, `100 bytes`.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// How the turn ended, from its row: asked when the server says the reader has every event.
    private func endingFromRow() async -> TurnEnding {
        do {
            return try await api.turn(turnID).ending
                ?? .failed(code: "running", message: "the server says the stream is complete, but the turn still runs", retryable: nil)
        } catch let error as ChatClientError {
            return .clientError(error)
        } catch {
            return .abandoned
        }
    }

    /// How the turn ended according to its row; nil while it runs (or when the row cannot be
    /// read for a reason that may pass).
    private func endingIfFinished() async -> TurnEnding? {
        do {
            return try await api.turn(turnID).ending
        } catch let error as ChatClientError where !error.isRetryableOnStream {
            return .clientError(error)
        } catch is ChatClientError {
            return nil
        } catch {
            return .abandoned
        }
    }
}
