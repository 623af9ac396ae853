import CSystemAllocator
import PaliadinEngine
import Logging
import ServiceLifecycle

/// Gives memory freed after a busy spell back to the system once no turn runs.
///
/// glibc's allocator keeps what the threads freed inside its per-thread arenas: after a few
/// hundred streams the process stays at its peak resident size long after they ended (the
/// benchmark measured +100% over idle). `malloc_trim` hands the free pages back. It costs a
/// walk of the heap, so it runs only when no turn runs, on the few checks (every `interval`)
/// after turns last started.
public struct IdleMemoryTrimmer: Service, CustomStringConvertible {
    /// Idle checks that trim after turns ran: memory is still being freed after the last
    /// turn ends (idle backend connections close after `PALIADIN_BACKEND_IDLE_TIMEOUT`, 10 s
    /// by default), so one trim at the first idle check is not enough.
    public static let trimsAfterActivity = 4

    /// Turns started so far and turns running now.
    public struct Activity: Sendable {
        public var started: Int
        public var running: Int

        public init(started: Int, running: Int) {
            self.started = started
            self.running = running
        }
    }

    let activity: @Sendable () -> Activity
    let clock: EngineClock
    let interval: Duration
    /// Returns free memory to the system; `malloc_trim` on glibc, nothing elsewhere.
    let trim: @Sendable () -> Void
    let logger: Logger

    /// - Parameters:
    ///   - interval: how often the turns are looked at.
    ///   - activity: the turns started so far and running now.
    ///   - trim: what returns free memory; the system allocator's trim by default.
    public init(
        logger: Logger, clock: EngineClock = .continuous, interval: Duration = .seconds(5),
        activity: @escaping @Sendable () -> Activity, trim: @escaping @Sendable () -> Void = { _ = Self.releaseFreeMemory() }
    ) {
        self.activity = activity
        self.logger = logger
        self.clock = clock
        self.interval = interval
        self.trim = trim
    }

    /// Watches the turns of `hub`.
    public init(hub: LiveTurnHub, logger: Logger) {
        self.init(logger: logger, activity: { Activity(started: hub.startedCount, running: hub.count) })
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastStarted = activity().started
            var trimsLeft = 0
            while (try? await clock.sleep(for: interval)) != nil {
                let now = activity()
                if now.started != lastStarted {
                    lastStarted = now.started
                    trimsLeft = Self.trimsAfterActivity
                }
                guard trimsLeft > 0, now.running == 0 else { continue }
                trimsLeft -= 1
                trim()
                logger.debug("Returned free memory to the system", metadata: ["turns_started": "\(now.started)"])
            }
        }
    }

    public var description: String { "IdleMemoryTrimmer" }

    /// The system allocator's own trim; true when it gave pages back (always false where
    /// the C library has no such call).
    public static func releaseFreeMemory() -> Bool {
        paliadin_release_free_memory() == 1
    }
}
