import PaliadinCore
import Testing

@Suite("TurnWatch: silence, thinking and deadline rules without a clock")
struct TurnWatchTests {
    let policy = TurnTimingPolicy()

    @Test("a silent streaming backend gets a thinking event every 5 s, then fails at 90 s")
    func thinkingCadenceThenSilence() {
        var watch = TurnWatch(policy: policy, mode: .streaming)
        var thinking: [Int] = []
        var failure: ErrorPayload?
        while let wakeup = watch.nextWakeup {
            for action in watch.tick(at: wakeup) {
                switch action {
                case .emitThinking(let payload):
                    #expect(payload.sinceFirst == false)
                    #expect(payload.upstream == nil)
                    thinking.append(payload.elapsedSeconds)
                case .fail(let error):
                    failure = error
                }
            }
        }
        #expect(thinking == Array(stride(from: 5, through: 85, by: 5)))
        #expect(failure?.code == TurnErrorCode.upstreamSilence)
        #expect(failure?.message == "the backend sent nothing for 90 s")
        #expect(watch.isFinished)
    }

    @Test("content and heartbeats push the silence limit back")
    func activityResetsSilence() {
        var watch = TurnWatch(policy: policy, mode: .streaming)
        watch.contentArrived(at: .seconds(80))
        // Silent for 11 s after content: a thinking event, not a failure.
        #expect(watch.tick(at: .seconds(91)) == [.emitThinking(ThinkingPayload(elapsedSeconds: 91, sinceFirst: true))])
        let heartbeat = watch.heartbeatArrived(at: .seconds(160))
        #expect(heartbeat == ThinkingPayload(elapsedSeconds: 160, sinceFirst: true, upstream: true))
        // Silent since 160 s: thinking at 165, failure at 250.
        #expect(watch.nextWakeup == .seconds(165))
        #expect(watch.tick(at: .seconds(165)) == [.emitThinking(ThinkingPayload(elapsedSeconds: 165, sinceFirst: true))])
        #expect(watch.tick(at: .seconds(249)).count == 1)  // thinking
        let actions = watch.tick(at: .seconds(250))
        guard case .fail(let error) = actions.first else {
            Issue.record("expected a failure, got \(actions)")
            return
        }
        #expect(error.code == TurnErrorCode.upstreamSilence)
    }

    @Test("no thinking while content flows")
    func noThinkingWhileStreaming() {
        var watch = TurnWatch(policy: policy, mode: .streaming)
        for second in 1...20 {
            watch.contentArrived(at: .seconds(second))
            #expect(watch.tick(at: .seconds(second)).isEmpty)
        }
        #expect(watch.nextWakeup == .seconds(25))
    }

    @Test("a streaming turn that keeps talking ends at the 30 min deadline")
    func streamingDeadline() {
        var watch = TurnWatch(policy: policy, mode: .streaming)
        var now = Duration.zero
        var failure: ErrorPayload?
        while failure == nil, now < .seconds(3600) {
            now += .seconds(30)
            watch.contentArrived(at: now)
            for case .fail(let error) in watch.tick(at: now) { failure = error }
        }
        #expect(now == .seconds(1800))
        #expect(failure == ErrorPayload(code: TurnErrorCode.upstreamTimeout, message: "the turn ran past its 30 min limit", retryable: true))
    }

    @Test("a one-shot backend has no silence limit but a 150 s ceiling")
    func oneShotCeiling() {
        var watch = TurnWatch(policy: policy, mode: .oneShot)
        var thinkingCount = 0
        var failure: ErrorPayload?
        var last = Duration.zero
        while let wakeup = watch.nextWakeup {
            last = wakeup
            for action in watch.tick(at: wakeup) {
                if case .fail(let error) = action { failure = error } else { thinkingCount += 1 }
            }
        }
        #expect(last == .seconds(150))
        #expect(thinkingCount == 29)
        #expect(failure?.code == TurnErrorCode.upstreamTimeout)
        #expect(failure?.message == "the backend ran past its 150 s limit")
    }

    @Test("shrunk limits apply as configured")
    func shrunkLimits() {
        let quick = TurnTimingPolicy(silenceLimit: .milliseconds(300), thinkingInterval: .milliseconds(100), streamingDeadline: .seconds(5))
        var watch = TurnWatch(policy: quick, mode: .streaming)
        #expect(watch.nextWakeup == .milliseconds(100))
        #expect(watch.tick(at: .milliseconds(50)).isEmpty)
        #expect(watch.tick(at: .milliseconds(100)).count == 1)
        #expect(watch.tick(at: .milliseconds(200)).count == 1)
        let actions = watch.tick(at: .milliseconds(300))
        #expect(actions == [.fail(ErrorPayload(code: TurnErrorCode.upstreamSilence, message: "the backend sent nothing for 300 ms", retryable: true))])
    }

    @Test("a finished watch stays quiet")
    func finishedIsQuiet() {
        var watch = TurnWatch(policy: policy, mode: .streaming)
        watch.finish()
        #expect(watch.nextWakeup == nil)
        #expect(watch.tick(at: .seconds(1000)).isEmpty)
        #expect(watch.heartbeatArrived(at: .seconds(1)) == nil)
    }
}
