import Synchronization

/// Turns per minute per user, as a token bucket on the engine's clock: a user holds up to
/// `perMinute` starts, and gets one back every `60 s / perMinute`.
final class TurnRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Duration
    }

    private let perMinute: Int
    private let clock: EngineClock
    private let buckets = Mutex<[String: Bucket]>([:])
    /// Above this many users, full buckets (users idle for a minute) are forgotten.
    private static let pruneAbove = 10_000

    init(perMinute: Int, clock: EngineClock) {
        precondition(perMinute > 0, "a rate limit of zero turns would refuse everyone")
        self.perMinute = perMinute
        self.clock = clock
    }

    /// Takes one start for `userID`: nil when allowed, else how long until the next one is.
    func take(_ userID: String) -> Duration? {
        let now = clock.now
        let capacity = Double(perMinute)
        let perToken = Duration.seconds(60) / perMinute
        return buckets.withLock { buckets in
            if buckets.count > Self.pruneAbove { prune(&buckets, now: now, capacity: capacity, perToken: perToken) }
            var bucket = buckets[userID] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) / perToken)
            bucket.updated = now
            defer { buckets[userID] = bucket }
            guard bucket.tokens >= 1 else { return perToken * (1 - bucket.tokens) }
            bucket.tokens -= 1
            return nil
        }
    }

    private func prune(_ buckets: inout [String: Bucket], now: Duration, capacity: Double, perToken: Duration) {
        buckets = buckets.filter { _, bucket in bucket.tokens + (now - bucket.updated) / perToken < capacity }
    }
}
