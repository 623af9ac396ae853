import Logging
import PaliadinEngine
import PaliadinServer
import PaliadinTestSupport
import Synchronization
import Testing

@Suite("Idle memory trimmer")
struct IdleMemoryTrimmerTests {
    /// The turns the trimmer sees, and how often it trimmed.
    final class Probe: Sendable {
        let activity = Mutex(IdleMemoryTrimmer.Activity(started: 0, running: 0))
        let trims = Atomic<Int>(0)
    }

    @Test("trims only when no turn runs, a few times after turns started, and never when nothing ran")
    func trimsAfterActivityWhenIdle() async throws {
        let clock = ManualClock()
        let probe = Probe()
        let trimmer = IdleMemoryTrimmer(
            logger: Logger(label: "test"), clock: EngineClock(clock), interval: .seconds(5),
            activity: { probe.activity.withLock { $0 } },
            trim: { probe.trims.add(1, ordering: .relaxed) })
        let running = Task { try await trimmer.run() }
        defer { running.cancel() }

        /// Lets the trimmer take one look, and waits until it sleeps again.
        func tick() async {
            while clock.sleeperCount == 0 { await Task.yield() }
            clock.advance(by: .seconds(5))
            while clock.sleeperCount == 0 { await Task.yield() }
        }
        var trims: Int { probe.trims.load(ordering: .relaxed) }

        await tick()
        #expect(trims == 0, "nothing ran since start")

        probe.activity.withLock { $0 = .init(started: 1, running: 1) }
        await tick()
        await tick()
        #expect(trims == 0, "a turn is running")

        probe.activity.withLock { $0.running = 0 }
        for expected in 1...IdleMemoryTrimmer.trimsAfterActivity {
            await tick()
            #expect(trims == expected)
        }
        await tick()
        await tick()
        #expect(trims == IdleMemoryTrimmer.trimsAfterActivity, "idle for long: no more trims")

        probe.activity.withLock { $0 = .init(started: 3, running: 0) }
        await tick()
        #expect(trims == IdleMemoryTrimmer.trimsAfterActivity + 1, "short turns that ended between two looks count too")

        running.cancel()
        try await running.value
    }
}

#if canImport(Glibc)
import Glibc

@Suite("The system allocator's trim")
struct AllocatorTrimTests {
    @Test("gives back the pages of freed blocks that sit between blocks still in use")
    func releasesHoles() {
        // 64 KiB blocks stay inside the allocator's heap (below its mmap threshold). Freeing
        // every other one leaves holes that only a trim can hand back.
        let blocks = (0..<32).map { _ -> UnsafeMutableRawPointer in
            let block = malloc(64 * 1024)!
            memset(block, 1, 64 * 1024)
            return block
        }
        for (index, block) in blocks.enumerated() where index.isMultiple(of: 2) { free(block) }
        #expect(IdleMemoryTrimmer.releaseFreeMemory())
        for (index, block) in blocks.enumerated() where !index.isMultiple(of: 2) { free(block) }
    }
}
#endif
