import Foundation
import PaliadinClient
import PaliadinCore
import PaliadinEngine
import PaliadinTestSupport
import Testing

/// `paliadin chat`'s library against a live server and the mock upstream: what it prints,
/// how it resumes a cut stream, how Ctrl-C (injected) cancels, the interactive prompt, and
/// its errors.
@Suite("paliadin chat: the terminal client against a live server", .timeLimit(.minutes(2)))
struct ChatClientTests {
    @Test("a question streams; standard output is the stored answer, once, and a line break")
    func streamsAnswerOnce() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let output = CapturedChatOutput()
            let result = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: output) { chat in
                await chat.ask("mock:chunks=12 delay=2ms", sessionID: "chat-once")
            }
            #expect(result.ending == .completed)
            #expect(result.exitCode == .success)
            #expect(result.resumes == 0)
            let row = try await client.finishedRow(result.turnID)
            #expect(row.status == .completed)
            #expect(row.sessionID == "chat-once")
            #expect(row.response == MockOpenAIUpstream.chunkedAnswer(12))
            #expect(output.standardOutput == row.response + "\n")
            #expect(output.standardError.isEmpty, "nothing on a quiet standard error: \(output.standardError)")
        }
    }

    @Test("the stream connection is cut mid-answer: the client resumes by itself, prints every piece once")
    func resumesAfterCut() async throws {
        try await TestHarness.withLiveServer(configure: { $0.sseRetryMS = 20 }) { harness, client in
            // The first stream loses its connection after five pieces of the answer and half of the sixth.
            try await CuttingProxy.run(forwardingTo: client.port, plans: [.cut(stream: 0, afterFrames: 5, extraBytes: 30)]) { proxy in
                let output = CapturedChatOutput()
                let result = try await ChatClient.withClient(configuration: client.chatConfiguration(port: proxy.port), output: output) { chat in
                    await chat.ask("mock:chunks=40 delay=10ms", sessionID: "chat-cut")
                }
                #expect(result.ending == .completed)
                #expect(result.resumes >= 1)
                #expect(proxy.counts.cuts == 1)
                #expect(proxy.counts.streams >= 2)
                let row = try await client.finishedRow(result.turnID)
                #expect(row.response == MockOpenAIUpstream.chunkedAnswer(40))
                #expect(output.standardOutput == row.response + "\n", "no piece twice, none missing")
                #expect(row.readerResumes >= 1)
            }
        }
    }

    @Test("every stream connection is cut after one frame: the answer still arrives whole, once")
    func resumesAfterEveryFrame() async throws {
        try await TestHarness.withLiveServer(configure: { $0.sseRetryMS = 5 }) { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, plans: [.cutEvery(afterFrames: 1, extraBytes: 7)]) { proxy in
                let output = CapturedChatOutput()
                let result = try await ChatClient.withClient(configuration: client.chatConfiguration(port: proxy.port), output: output) { chat in
                    await chat.ask("mock:chunks=8 delay=5ms", sessionID: "chat-every")
                }
                #expect(result.ending == .completed)
                // One event per connection: meta, the pieces (the server may join pieces that
                // arrive together into one event), end.
                #expect(result.resumes >= 2)
                #expect(proxy.counts.cuts >= result.resumes)
                let row = try await client.finishedRow(result.turnID)
                #expect(output.standardOutput == MockOpenAIUpstream.chunkedAnswer(8) + "\n")
                #expect(row.response == MockOpenAIUpstream.chunkedAnswer(8))
            }
        }
    }

    @Test("a stream that never comes back: the client gives up after the configured time, with a clear message")
    func givesUp() async throws {
        try await TestHarness.withLiveServer(configure: { $0.sseRetryMS = 10 }) { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, plans: [.cutEvery(afterFrames: 0)]) { proxy in
                let output = CapturedChatOutput()
                let configuration = client.chatConfiguration(port: proxy.port, giveUpAfter: .seconds(1))
                let result = try await ChatClient.withClient(configuration: configuration, output: output) { chat in
                    await chat.ask("hello", sessionID: "chat-lost")
                }
                guard case .clientError(.streamLost(let turnID, _, _)) = result.ending else {
                    Issue.record("ended \(result.ending)")
                    return
                }
                #expect(turnID == result.turnID)
                #expect(result.exitCode == .unavailable)
                #expect(proxy.counts.streams >= 2)
                #expect(output.standardError.contains("could not resume it for 1s"))
                #expect(output.standardError.contains("reconnecting…"))
                #expect(output.standardOutput.isEmpty)
            }
        }
    }

    @Test("Ctrl-C (injected) mid-answer cancels the turn on the server: the row is cancelled, exit 130")
    func interruptCancels() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let output = CapturedChatOutput()
            let interrupts = Interrupts()
            let result = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: output, interrupts: interrupts) { chat in
                async let result = chat.ask("mock:chunks=500 delay=20ms", sessionID: "chat-cancel")
                try await output.waitForOutput { $0.contains("t3 ") }
                interrupts.send()
                return await result
            }
            #expect(result.ending == .cancelled)
            #expect(result.exitCode == .cancelled)
            #expect(result.exitCode.rawValue == 130)
            let row = try await client.finishedRow(result.turnID)
            #expect(row.status == .cancelled)
            #expect(row.response.hasPrefix("t1 t2 t3 "))
            #expect(row.response.count < MockOpenAIUpstream.chunkedAnswer(500).count)
            #expect(output.standardOutput == row.response + "\n", "what was printed is what the server kept")
            #expect(output.standardError.contains("cancelling… (Ctrl-C again leaves without waiting)"))
            #expect(output.standardError.hasSuffix("(cancelled)\n"))
        }
    }

    @Test("a second Ctrl-C leaves at once, even when the stream has stalled and the cancellation cannot be seen")
    func secondInterruptLeaves() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, plans: [.stall(stream: 0, afterFrames: 3)]) { proxy in
                let output = CapturedChatOutput()
                let interrupts = Interrupts()
                let configuration = client.chatConfiguration(port: proxy.port)
                let result = try await ChatClient.withClient(configuration: configuration, output: output, interrupts: interrupts) { chat in
                    async let result = chat.ask("mock:chunks=500 delay=20ms", sessionID: "chat-leave")
                    try await output.waitForOutput { $0.contains("t3 ") }
                    try await proxy.waitUntil { $0.stalls == 1 }
                    interrupts.send()
                    // The cancel reached the server (the stream, stalled, cannot tell the client).
                    let row = try await client.row(asking: "mock:chunks=500 delay=20ms")
                    _ = try await client.waitUntilFinished(row.id.description)
                    interrupts.send()
                    return await result
                }
                #expect(result.ending == .abandoned)
                #expect(result.exitCode == .cancelled)
                let row = try await client.finishedRow(result.turnID)
                #expect(row.status == .cancelled)
                // What was printed is the start of what the server kept (the backend may join pieces).
                let printed = output.standardOutput
                #expect(printed.hasSuffix("\n"))
                #expect(printed.contains("t3 "))
                #expect(row.response.hasPrefix(String(printed.dropLast())))
                // "is stopping", or "may still be running" when the cancel's answer is still on its way.
                #expect(output.standardError.contains("(left without waiting; turn \(row.id) "))
            }
        }
    }

    @Test("a connection that goes silent is dropped after the idle timeout and the stream resumed")
    func silentConnectionResumes() async throws {
        try await TestHarness.withLiveServer(configure: { $0.sseRetryMS = 20 }) { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, plans: [.stall(stream: 0, afterFrames: 2)]) { proxy in
                let output = CapturedChatOutput()
                var configuration = client.chatConfiguration(port: proxy.port)
                // The read timeout covers every request, the question's too: short, but not so
                // short that a loaded machine's slow answer to the POST counts as silence.
                configuration.streamIdleTimeout = .seconds(3)
                let result = try await ChatClient.withClient(configuration: configuration, output: output) { chat in
                    await chat.ask("mock:chunks=30 delay=10ms", sessionID: "chat-silent")
                }
                #expect(result.ending == .completed)
                #expect(result.resumes >= 1)
                #expect(proxy.counts.stalls == 1)
                #expect(output.standardOutput == MockOpenAIUpstream.chunkedAnswer(30) + "\n")
            }
        }
    }

    @Test("the thinking indicator: one rewritten line on a terminal's standard error, erased before anything else is written")
    func thinkingIndicator() async throws {
        try await TestHarness.withLiveServer(configure: { configuration in
            configuration.engine.timing.thinkingInterval = .milliseconds(100)
        }) { harness, client in
            let clear = "\r\u{1B}[2K"
            let terminal = CapturedChatOutput(errorIsTerminal: true)
            let interrupts = Interrupts()
            let result = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: terminal, interrupts: interrupts) { chat in
                // A backend that says nothing: thinking events come until the turn is cancelled.
                async let result = chat.ask("mock:silent", sessionID: "chat-think")
                try await terminal.waitFor(.standardError) { $0.contains(clear + "thinking… 0s") }
                interrupts.send()
                return await result
            }
            #expect(result.ending == .cancelled)
            #expect(terminal.standardOutput.isEmpty)
            let lines = terminal.standardError.split(separator: "\n", omittingEmptySubsequences: false)
            // The indicator, rewritten in place, then erased before the note.
            #expect(lines.first?.hasPrefix(clear + "thinking…" + clear + "thinking… 0s") == true, "\(terminal.standardError.debugDescription)")
            #expect(lines.first?.hasSuffix(clear + "cancelling… (Ctrl-C again leaves without waiting)") == true)
            #expect(terminal.standardError.hasSuffix("(cancelled)\n"))
        }
    }

    @Test("interactive: lines are turns of one session; /new starts another (a new session id, nothing reset); the session id is shown")
    func interactiveSession() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port) { proxy in
                let output = CapturedChatOutput()
                let lines = LineQueue()
                for line in ["mock:chunks=2", "  ", "second question", "/help", "/new", "third question", "/bogus"] { lines.push(line) }
                lines.finish()
                let code = try await ChatClient.withClient(configuration: client.chatConfiguration(port: proxy.port), output: output) { chat in
                    await chat.interactive(lines: lines)
                }
                #expect(code == .success)
                let first = try await client.row(asking: "mock:chunks=2")
                let second = try await client.row(asking: "second question")
                let third = try await client.row(asking: "third question")
                #expect(second.sessionID == first.sessionID)
                #expect(third.sessionID != first.sessionID)
                #expect([first, second, third].allSatisfy { $0.status == .completed })
                #expect(output.standardOutput == "t1 t2 \n" + MockOpenAIUpstream.defaultAnswer + "\n" + MockOpenAIUpstream.defaultAnswer + "\n")
                let err = output.standardError
                #expect(err.contains("new session \(first.sessionID)"))
                #expect(err.contains("--session \(first.sessionID)"))
                #expect(err.contains("new session \(third.sessionID)"))
                #expect(err.contains("/quit"), "the help")
                #expect(err.contains("unknown command /bogus"))
                // The reset route is per user: it would wipe every session of this user, the browser's too.
                #expect(!proxy.requestLines.contains { $0.contains("/reset") }, "\(proxy.requestLines)")
                #expect(proxy.requestLines.filter { $0.hasPrefix("POST /api/paliadin/turn ") }.count == 3)
            }
        }
    }

    @Test("interactive: Ctrl-C cancels the running answer and returns to the prompt; --session shows earlier turns; /quit leaves")
    func interactiveInterruptAndHistory() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let output = CapturedChatOutput()
            let interrupts = Interrupts()
            let lines = LineQueue()
            let code = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: output, interrupts: interrupts) { chat in
                async let code = chat.interactive(lines: lines, sessionID: "kept-session")
                lines.push("mock:chunks=500 delay=20ms")
                try await output.waitForOutput { $0.contains("t3 ") }
                interrupts.send()
                lines.push("after the stop")
                lines.push("/quit")
                lines.push("never asked")
                return await code
            }
            #expect(code == .success)
            let stopped = try await client.row(asking: "mock:chunks=500 delay=20ms")
            let after = try await client.row(asking: "after the stop")
            #expect(stopped.status == .cancelled)
            #expect(after.status == .completed)
            #expect(stopped.sessionID == "kept-session")
            #expect(after.sessionID == "kept-session")
            #expect(try await harness.store.recentTurns(limit: 50).allSatisfy { $0.userMessage != "never asked" })
            #expect(output.standardOutput == stopped.response + "\n" + MockOpenAIUpstream.defaultAnswer + "\n")

            // Coming back to the session prints its earlier turns first.
            let again = CapturedChatOutput()
            let empty = LineQueue()
            empty.finish()
            let code2 = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: again) { chat in
                await chat.interactive(lines: empty, sessionID: "kept-session")
            }
            #expect(code2 == .success)
            #expect(again.standardOutput == "> mock:chunks=500 delay=20ms\n\(stopped.response)\n> after the stop\n\(MockOpenAIUpstream.defaultAnswer)\n")
            #expect(again.standardError.contains("(cancelled)"))
        }
    }

    @Test("interactive: Ctrl-C at the prompt says how to leave; a second one in a row leaves with 130")
    func interruptsAtPrompt() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let output = CapturedChatOutput()
            let interrupts = Interrupts()
            let lines = LineQueue()
            let code = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: output, interrupts: interrupts) { chat in
                async let code = chat.interactive(lines: lines)
                try await output.waitFor(.standardError) { $0.hasSuffix("Ctrl-D leaves.\n> ") }
                interrupts.send()
                try await output.waitFor(.standardError) { $0.hasSuffix("(Ctrl-C again or Ctrl-D leaves)\n> ") }
                interrupts.send()
                return await code
            }
            #expect(code == .cancelled)
            #expect(try await harness.store.recentTurns(limit: 5).isEmpty)
        }
    }

    @Test("errors: a server not running, a bad token, a user who is not an owner: clear messages and exit codes, no retry")
    func errors() async throws {
        try await TestHarness.withLiveServer { harness, client in
            // Nobody listens on this port.
            let port = try await freeLoopbackPort()
            let refused = CapturedChatOutput()
            let result = try await ChatClient.withClient(configuration: client.chatConfiguration(port: port), output: refused) { chat in
                await chat.ask("hello", sessionID: "s")
            }
            #expect(result.ending == .clientError(.unreachable(server: "http://127.0.0.1:\(port)", detail: "connection refused")))
            #expect(result.exitCode == .unavailable)
            #expect(result.turnID == nil)
            #expect(refused.standardError.contains("cannot reach Paliadin at http://127.0.0.1:\(port) (connection refused)"))
            #expect(refused.standardOutput.isEmpty)

            let badToken = CapturedChatOutput()
            let unauthorized = try await ChatClient.withClient(configuration: client.chatConfiguration(token: "not-a-token"), output: badToken) { chat in
                await chat.ask("hello", sessionID: "s")
            }
            #expect(unauthorized.ending == .clientError(.unauthorized(server: client.base)))
            #expect(unauthorized.exitCode == .notPermitted)
            #expect(badToken.standardError.contains("answered 401"))
            #expect(badToken.standardError.contains("PALIADIN_TOKEN"))

            let stranger = CapturedChatOutput()
            let notOwner = try await ChatClient.withClient(configuration: client.chatConfiguration(token: harness.strangerToken), output: stranger) { chat in
                await chat.ask("hello", sessionID: "s")
            }
            #expect(notOwner.ending == .clientError(.notOwner(server: client.base)))
            #expect(notOwner.exitCode == .notPermitted)
            #expect(stranger.standardError.contains("not an owner"))

            // The prompt checks its credentials before the first question, and stops on them.
            let prompt = CapturedChatOutput()
            let lines = LineQueue()
            lines.push("never asked")
            let code = try await ChatClient.withClient(configuration: client.chatConfiguration(token: "not-a-token"), output: prompt) { chat in
                await chat.interactive(lines: lines)
            }
            #expect(code == .notPermitted)
            #expect(prompt.standardError.contains("answered 401"))
            #expect(try await harness.store.recentTurns(limit: 5).isEmpty)
        }
    }

    @Test("a turn that fails upstream: the error frame's message on standard error, exit 1")
    func turnFailure() async throws {
        try await TestHarness.withLiveServer { harness, client in
            let output = CapturedChatOutput()
            let result = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: output) { chat in
                await chat.ask("mock:cut=3", sessionID: "s")
            }
            guard case .failed(let code, _, let retryable) = result.ending else {
                Issue.record("ended \(result.ending)")
                return
            }
            #expect(code == "upstream_error")
            #expect(retryable == true)
            #expect(result.exitCode == .turnFailed)
            #expect(output.standardOutput == "t1 t2 t3 \n")
            #expect(output.standardError.contains("the turn failed (upstream_error)"))
        }
    }

    @Test("the server's 429 is shown with its Retry-After")
    func rateLimited() async throws {
        try await TestHarness.withLiveServer(configure: { configuration in
            configuration.engine.userLimits = UserTurnLimits(turnsPerMinute: 1)
        }) { harness, client in
            let output = CapturedChatOutput()
            let results = try await ChatClient.withClient(configuration: client.chatConfiguration(), output: output) { chat in
                [await chat.ask("one", sessionID: "s"), await chat.ask("two", sessionID: "s")]
            }
            #expect(results[0].ending == .completed)
            guard case .clientError(.rateLimited(_, let retryAfter)) = results[1].ending else {
                Issue.record("ended \(results[1].ending)")
                return
            }
            #expect((retryAfter ?? 0) >= 1)
            #expect(results[1].exitCode == .temporaryFailure)
            #expect(output.standardError.contains("try again in"))
        }
    }

    @Test("a second Ctrl-C leaves at once while the cancel request hangs on its way to the server")
    func secondInterruptLeavesWhileCancelHangs() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, holding: ["/cancel HTTP/1.1"]) { proxy in
                let output = CapturedChatOutput()
                let interrupts = Interrupts()
                let clock = ContinuousClock()
                let configuration = client.chatConfiguration(port: proxy.port)
                let (result, waited) = try await ChatClient.withClient(configuration: configuration, output: output, interrupts: interrupts) { chat in
                    async let result = chat.ask("mock:chunks=500 delay=20ms", sessionID: "chat-cancel-hangs")
                    try await output.waitForOutput { $0.contains("t3 ") }
                    interrupts.send()
                    try await proxy.waitUntil { $0.held == 1 }
                    let start = clock.now
                    interrupts.send()
                    let ended = await result
                    return (ended, clock.now - start)
                }
                // Far below the 30 s a cancel request may take before it times out.
                #expect(waited < .seconds(5), "left after \(waited)")
                #expect(result.ending == .abandoned)
                #expect(result.exitCode == .cancelled)
                let turnID = try #require(result.turnID)
                #expect(output.standardError.contains("cancelling… (Ctrl-C again leaves without waiting)"))
                #expect(output.standardError.contains("(left without waiting; turn \(turnID) may still be running on the server)"))
                #expect(!output.standardError.contains("could not cancel"), "the cancel was cut short by leaving, not failed")
                #expect(proxy.counts.held == 1)
                // The cancel never got through: stop the turn here, so the server need not wait for it at its end.
                _ = try await client.request(.POST, "/api/paliadin/turn/\(turnID)/cancel", token: harness.ownerToken)
                #expect(try await client.finishedRow(turnID).status == .cancelled)
            }
        }
    }

    @Test("Ctrl-C twice while the question is on its way: the client leaves at once, and cancels the turn once the server has started it")
    func leaveBeforeTurnStarts() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, holding: ["POST /api/paliadin/turn HTTP/1.1"]) { proxy in
                let output = CapturedChatOutput()
                let interrupts = Interrupts()
                var configuration = client.chatConfiguration(port: proxy.port)
                configuration.cleanupGrace = .seconds(20)
                let message = "mock:chunks=500 delay=20ms"
                let result = try await ChatClient.withClient(configuration: configuration, output: output, interrupts: interrupts) { chat in
                    async let result = chat.ask(message, sessionID: "chat-left-early")
                    try await proxy.waitUntil { $0.held == 1 }
                    interrupts.send()
                    interrupts.send()
                    let ended = await result
                    #expect(ended.ending == .abandoned)
                    #expect(ended.turnID == nil)
                    #expect(output.standardError.contains("(left without waiting; the turn had not started yet, and is cancelled if it does)"))
                    // The question reaches the server after all; `withClient` gives the cancel its grace.
                    proxy.release()
                    return ended
                }
                #expect(result.exitCode == .cancelled)
                let row = try await client.eventualRow(asking: message)
                _ = try await client.waitUntilFinished(row.id.description)
                let finished = try #require(try await harness.store.turn(row.id))
                #expect(finished.status == .cancelled)
                #expect(output.standardError.contains("paliadin: turn \(row.id) started as you left; it is cancelled"))
                #expect(output.standardOutput.isEmpty)
            }
        }
    }

    @Test("a cancel the server refuses (the turn had already ended) is reported")
    func cancelRefused() async throws {
        try await TestHarness.withLiveServer { harness, client in
            // The stream stalls (the end does not reach the client), and the cancel is held until the turn has ended.
            try await CuttingProxy.run(
                forwardingTo: client.port, plans: [.stall(stream: 0, afterFrames: 2)], holding: ["/cancel HTTP/1.1"]
            ) { proxy in
                let output = CapturedChatOutput()
                let interrupts = Interrupts()
                let message = "mock:chunks=20 delay=10ms"
                let result = try await ChatClient.withClient(configuration: client.chatConfiguration(port: proxy.port), output: output, interrupts: interrupts) { chat in
                    async let result = chat.ask(message, sessionID: "chat-refused")
                    try await proxy.waitUntil { $0.stalls == 1 }
                    interrupts.send()
                    try await proxy.waitUntil { $0.held == 1 }
                    let row = try await client.row(asking: message)
                    _ = try await client.waitUntilFinished(row.id.description)
                    proxy.release()
                    try await output.waitFor(.standardError) { $0.contains("the server did not cancel the turn") }
                    interrupts.send()
                    return await result
                }
                #expect(result.ending == .abandoned)
                let row = try await client.finishedRow(result.turnID)
                #expect(row.status == .completed)
                #expect(output.standardError.contains("paliadin: the server did not cancel the turn: the turn already ended (completed)"))
                #expect(output.standardError.contains("(left without waiting)\n"))
            }
        }
    }

    @Test("interactive: Ctrl-C while the session's history loads leaves at once")
    func interruptDuringHistory() async throws {
        try await TestHarness.withLiveServer { harness, client in
            try await CuttingProxy.run(forwardingTo: client.port, holding: ["GET /api/paliadin/history"]) { proxy in
                let output = CapturedChatOutput()
                let interrupts = Interrupts()
                let lines = LineQueue()
                lines.push("never asked")
                let clock = ContinuousClock()
                let (code, waited) = try await ChatClient.withClient(
                    configuration: client.chatConfiguration(port: proxy.port), output: output, interrupts: interrupts
                ) { chat in
                    async let code = chat.interactive(lines: lines, sessionID: "kept-session")
                    try await proxy.waitUntil { $0.held == 1 }
                    let start = clock.now
                    interrupts.send()
                    let ended = await code
                    return (ended, clock.now - start)
                }
                #expect(code == .cancelled)
                #expect(waited < .seconds(5), "left after \(waited)")
                #expect(!output.standardError.contains("Type a question"), "no prompt")
                #expect(try await harness.store.recentTurns(limit: 5).isEmpty)
            }
        }
    }
}
