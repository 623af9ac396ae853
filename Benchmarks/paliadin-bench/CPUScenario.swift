/// Scenario d: CPU seconds of the Paliadin process per 1,000 turns (64-chunk bursts,
/// concurrency 16), from /proc; the same turns direct give the mock's and client's own cost.
enum CPUScenario {
    static let script = MockScript(chunks: 64)

    struct Result: Codable, Sendable {
        var turns: Int
        var concurrency: Int
        var chunks: Int
        var errors: Int
        var firstFailure: String?
        var seconds: Double
        var paliadinCPUSecondsPer1000: Double
        /// The bench process (client + mock) during the turns through Paliadin.
        var benchCPUSecondsPer1000Through: Double
        /// The bench process (client + mock) for as many turns direct.
        var benchCPUSecondsPer1000Direct: Double
    }

    static func run(turns: Int, concurrency: Int, context: BenchContext) async throws -> Result {
        context.log("cpu: \(turns) turns through Paliadin at concurrency \(concurrency)")
        let direct = try await measure(turns: turns, concurrency: concurrency, direct: true, context: context)
        let through = try await measure(turns: turns, concurrency: concurrency, direct: false, context: context)
        let per1000 = 1000 / Double(turns)
        return Result(
            turns: turns, concurrency: concurrency, chunks: script.chunks, errors: through.errors, firstFailure: through.firstFailure,
            seconds: through.seconds, paliadinCPUSecondsPer1000: through.paliadin * per1000,
            benchCPUSecondsPer1000Through: through.bench * per1000, benchCPUSecondsPer1000Direct: direct.bench * per1000)
    }

    private struct Failures {
        var count = 0
        var first: String?
    }

    private struct Measured {
        var paliadin: Double
        var bench: Double
        var seconds: Double
        var errors: Int
        var firstFailure: String?
    }

    private static func measure(turns: Int, concurrency: Int, direct: Bool, context: BenchContext) async throws -> Measured {
        let next = Locked(0)
        let failures = Locked<Failures>(Failures())
        let paliadinBefore = context.paliadinCPUSeconds
        let benchBefore = ProcessStats.cpuSeconds()
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    let driver = context.makeDriver()
                    defer { driver.close() }
                    while next.withLock({ $0 += 1; return $0 }) <= turns {
                        let result = try? await (direct
                            ? driver.direct(message: script.message)
                            : driver.through(message: script.message, session: context.freshSession())).get()
                        if result?.ok != true {
                            failures.withLock { $0.count += 1; $0.first = $0.first ?? result?.failure ?? "no result" }
                        }
                    }
                }
            }
        }
        let seconds = BenchClock.ms(started.duration(to: .now)) / 1000
        // The event log is written in batches: let the last ones land before reading the CPU time.
        try await Task.sleep(for: .milliseconds(500))
        let (errors, firstFailure) = (failures.value.count, failures.value.first)
        return Measured(
            paliadin: context.paliadinCPUSeconds - paliadinBefore, bench: ProcessStats.cpuSeconds() - benchBefore,
            seconds: seconds, errors: errors, firstFailure: firstFailure)
    }
}
