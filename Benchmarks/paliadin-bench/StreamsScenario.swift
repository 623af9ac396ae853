/// Scenario b (and c): sustained concurrent paced streams. At each level N, N workers are
/// started gradually; each runs turns back to back (a finished stream is replaced by a new
/// turn) until the level's time is up. A level passes when no gap between content frames
/// exceeds 250 ms and no turn fails. Paliadin's RSS is sampled all along.
enum StreamsScenario {
    /// The largest gap between two content frames a passing level may show.
    static let gapLimitMS = 250.0
    /// Paced answers: 64 deltas, 20 ms apart.
    static let script = MockScript(chunks: 64, intervalMS: 20)

    /// The figures of one level.
    struct Level: Codable, Sendable {
        var path: String
        var streams: Int
        var seconds: Double
        var turns: Int
        var errors: Int
        var firstFailure: String?
        var contentFrames: Int
        /// Streams delivering content, on average over the level: Σ (last − first content) / time.
        var meanStreamingStreams: Double
        var contentFramesPerSecond: Double
        var maxGapMS: Double
        var p99GapMS: Double
        var p50TTFTMS: Double
        var p99TTFTMS: Double
        var passed: Bool
        /// Paliadin's RSS: the most seen during the level, and (that − idle) per stream.
        var rssPeakKiB: Int
        var rssPerStreamKiB: Double
        var paliadinCPUSeconds: Double
        var benchCPUSeconds: Double
    }

    /// Paliadin's resident memory around the load (KiB).
    struct Memory: Codable, Sendable {
        var idleBeforeLoadKiB: Int
        var peakKiB: Int
        var peakStreams: Int
        var perStreamKiB: Double
        var afterLoadKiB: Int
        var afterLoadSeconds: Double
        /// The same, anonymous memory only (`RssAnon`: heap and stacks, not mapped code).
        var idleBeforeLoadAnonKiB: Int?
        var afterLoadAnonKiB: Int?
    }

    struct Result: Codable, Sendable {
        /// Mock and client alone at the top level: their own ceiling.
        var directCeiling: Level?
        var levels: [Level]
        var highestPassed: Int
        var memory: Memory
    }

    /// What a level's workers add up, shared under a lock (one lock per finished turn).
    private struct Tally {
        var turns = 0
        var errors = 0
        var firstFailure: String?
        var contentFrames = 0
        var streamingNanos: UInt64 = 0
        var gaps = GapHistogram()
        var ttfts: [Double] = []
    }

    static func run(levels: [Int], seconds: Double, rampPerTick: Int, directCeiling: Bool, context: BenchContext) async throws -> Result {
        // Paliadin keeps idle backend connections 10 s (PALIADIN_BACKEND_IDLE_TIMEOUT): sample after that.
        let afterSeconds = 13.0
        var ceiling: Level?
        if directCeiling, let top = levels.max() {
            context.log("streams: mock + client alone, \(top) streams")
            ceiling = try await runLevel(top, direct: true, seconds: min(seconds, 5), rampPerTick: rampPerTick, idleKiB: 0, context: context)
            try await Task.sleep(for: .seconds(1))
        }
        try await Task.sleep(for: .seconds(1))
        let idle = context.paliadinRSSKiB
        let idleAnon = context.paliadinAnonymousRSSKiB
        var results: [Level] = []
        for level in levels.sorted() {
            context.log("streams: \(level) through Paliadin")
            let result = try await runLevel(level, direct: false, seconds: seconds, rampPerTick: rampPerTick, idleKiB: idle, context: context)
            results.append(result)
            context.log("  turns \(result.turns), errors \(result.errors), max gap \(result.maxGapMS) ms, RSS peak \(result.rssPeakKiB) KiB")
            guard result.passed else { break }
            try await Task.sleep(for: .seconds(1))
        }
        try await Task.sleep(for: .seconds(afterSeconds))
        let after = context.paliadinRSSKiB
        let afterAnon = context.paliadinAnonymousRSSKiB
        let top = results.last(where: \.passed) ?? results.last
        return Result(
            directCeiling: ceiling, levels: results, highestPassed: results.filter(\.passed).map(\.streams).max() ?? 0,
            memory: Memory(
                idleBeforeLoadKiB: idle, peakKiB: results.map(\.rssPeakKiB).max() ?? 0, peakStreams: top?.streams ?? 0,
                perStreamKiB: top?.rssPerStreamKiB ?? 0, afterLoadKiB: after, afterLoadSeconds: afterSeconds,
                idleBeforeLoadAnonKiB: idleAnon, afterLoadAnonKiB: afterAnon))
    }

    /// One level: `streams` workers for `seconds`, started `rampPerTick` per 100 ms.
    static func runLevel(_ streams: Int, direct: Bool, seconds: Double, rampPerTick: Int, idleKiB: Int, context: BenchContext) async throws -> Level {
        let tally = Locked(Tally())
        let peak = Locked(0)
        let running = Locked(true)
        let cpuBefore = context.paliadinCPUSeconds
        let benchBefore = ProcessStats.cpuSeconds()
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while running.value, !direct {
                    let rss = context.paliadinRSSKiB
                    peak.withLock { $0 = max($0, rss) }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            await withTaskGroup(of: Void.self) { workers in
                var launched = 0
                while launched < streams {
                    for _ in 0..<min(rampPerTick, streams - launched) {
                        workers.addTask { await worker(direct: direct, until: deadline, tally: tally, context: context) }
                        launched += 1
                    }
                    if launched < streams { try? await Task.sleep(for: .milliseconds(100)) }
                }
                await workers.waitForAll()
            }
            running.withLock { $0 = false }
        }
        let elapsed = BenchClock.ms(started.duration(to: .now)) / 1000
        let totals = tally.value
        let ttft = Summary(totals.ttfts)
        let maxGap = totals.gaps.maxMS
        let rssPeak = direct ? 0 : peak.value
        return Level(
            path: direct ? "direct" : "through Paliadin", streams: streams, seconds: elapsed, turns: totals.turns, errors: totals.errors,
            firstFailure: totals.firstFailure, contentFrames: totals.contentFrames,
            meanStreamingStreams: Double(totals.streamingNanos) / 1e9 / elapsed, contentFramesPerSecond: Double(totals.contentFrames) / elapsed,
            maxGapMS: maxGap,
            p99GapMS: totals.gaps.quantileMS(0.99), p50TTFTMS: ttft.p50, p99TTFTMS: ttft.p99,
            passed: totals.errors == 0 && maxGap <= gapLimitMS && totals.turns > 0,
            rssPeakKiB: rssPeak, rssPerStreamKiB: direct ? 0 : Double(rssPeak - idleKiB) / Double(streams),
            paliadinCPUSeconds: context.paliadinCPUSeconds - cpuBefore, benchCPUSeconds: ProcessStats.cpuSeconds() - benchBefore)
    }

    /// One stream slot: turns back to back until the deadline.
    private static func worker(direct: Bool, until deadline: ContinuousClock.Instant, tally: Locked<Tally>, context: BenchContext) async {
        let driver = context.makeDriver()
        defer { driver.close() }
        while ContinuousClock.now < deadline {
            let result: TurnResult
            do {
                result = direct
                    ? try await driver.direct(message: script.message, keepGaps: true).get()
                    : try await driver.through(message: script.message, session: context.freshSession(), keepGaps: true).get()
            } catch {
                var failed = TurnResult(start: 0)
                failed.failure = "\(error)"
                result = failed
            }
            tally.withLock { totals in
                totals.turns += 1
                totals.contentFrames += result.contentFrames
                totals.gaps.add(result.gapsMicros)
                if result.firstContent > 0, result.finished > result.firstContent {
                    totals.streamingNanos += result.finished - result.firstContent
                }
                if result.ok {
                    totals.ttfts.append(result.ttft)
                } else {
                    totals.errors += 1
                    totals.firstFailure = totals.firstFailure ?? result.failure
                }
            }
            if !result.ok { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }
}
