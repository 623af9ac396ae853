import PaliadinCore
import PaliadinEngine
import PaliadinTestSupport
import Testing

@Suite("Remote turn signals")
struct RemoteTurnSignalsTests {
    @Test("a signal wakes a waiting reader at once, without the fallback timeout")
    func signalWakes() async throws {
        let signals = RemoteTurnSignals()
        let clock = ManualClock()
        let turnID = TurnID()
        let ticket = signals.watch(turnID)
        defer { signals.release(turnID) }
        async let waited: Void = signals.wait(ticket, timeout: .seconds(60), clock: EngineClock(clock))
        while clock.sleeperCount == 0 { await Task.yield() }
        signals.signal(turnID)
        await waited
        #expect(clock.now.offset == .zero, "woken by the signal, not by the clock")
    }

    @Test("a signal between watching and waiting is not missed")
    func signalBeforeWait() async throws {
        let signals = RemoteTurnSignals()
        let clock = ManualClock()
        let turnID = TurnID()
        let ticket = signals.watch(turnID)
        defer { signals.release(turnID) }
        signals.signal(turnID)
        // Returns at once: the ticket is older than the signal.
        await signals.wait(ticket, timeout: .seconds(60), clock: EngineClock(clock))
        #expect(clock.now.offset == .zero)
    }

    @Test("a signal for another turn does not wake; the timeout does")
    func otherTurnAndTimeout() async throws {
        let signals = RemoteTurnSignals()
        let clock = ManualClock()
        let turnID = TurnID()
        let ticket = signals.watch(turnID)
        defer { signals.release(turnID) }
        let engineClock = EngineClock(clock)
        async let waited: Void = signals.wait(ticket, timeout: .seconds(1), clock: engineClock)
        while clock.sleeperCount == 0 { await Task.yield() }
        signals.signal(TurnID())
        clock.advance(by: .seconds(1))
        await waited
        #expect(clock.now.offset == .seconds(1))
    }

    @Test("signalAll wakes every watched turn; unwatched turns keep no state")
    func signalAllAndRelease() async throws {
        let signals = RemoteTurnSignals()
        let clock = EngineClock(ManualClock())
        let first = TurnID()
        let second = TurnID()
        let tickets = [signals.watch(first), signals.watch(second)]
        signals.signalAll()
        for ticket in tickets { await signals.wait(ticket, timeout: .seconds(60), clock: clock) }
        signals.release(first)
        signals.release(second)
        // After release a new watch starts afresh and is not woken by old signals.
        let fresh = signals.watch(first)
        defer { signals.release(first) }
        signals.signal(second)
        let manual = ManualClock()
        async let waited: Void = signals.wait(fresh, timeout: .seconds(2), clock: EngineClock(manual))
        while manual.sleeperCount == 0 { await Task.yield() }
        manual.advance(by: .seconds(2))
        await waited
        #expect(manual.now.offset == .seconds(2))
    }
}
