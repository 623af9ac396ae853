/// The clock the engine runs on, as time elapsed since the clock was made.
///
/// Wraps any `Clock` whose duration is `Duration`, so production runs on the continuous
/// clock and tests can drive a clock of their own.
public struct EngineClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    public init<C: Clock<Duration>>(_ clock: C) {
        let origin = clock.now
        self.elapsed = { origin.duration(to: clock.now) }
        self.sleeper = { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
    }

    /// The real, monotonic clock.
    public static var continuous: EngineClock { EngineClock(ContinuousClock()) }

    /// Time since the clock was made.
    public var now: Duration { elapsed() }

    /// Sleeps until `now` reaches `deadline`; throws when the task is cancelled.
    public func sleep(until deadline: Duration) async throws {
        try await sleeper(deadline)
    }

    /// Sleeps for `duration`; throws when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        try await sleeper(now + duration)
    }
}
