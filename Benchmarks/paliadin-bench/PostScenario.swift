/// Scenario e: `POST /api/paliadin/turn` rate. C keep-alive connections post turns back to back
/// for a while (the mock answers each turn with one chunk; the streams are not opened).
/// The same loop against the mock alone gives the client's and mock's own ceiling.
enum PostScenario {
    struct Result: Codable, Sendable {
        var connections: Int
        var seconds: Double
        var turns: Int
        var turnsPerSecond: Double
        var latency: Summary
        var errors: Int
        var firstFailure: String?
        /// Requests per second the same connections get from the mock alone (1-chunk streams).
        var mockAlonePerSecond: Double
        var mockAloneLatency: Summary
    }

    private struct Measured {
        var count = 0
        var errors = 0
        var firstFailure: String?
        var latencies: [Double] = []
    }

    static func run(connections: Int, seconds: Double, context: BenchContext) async throws -> Result {
        context.log("post: \(connections) connections for \(seconds) s, mock alone then Paliadin")
        let alone = await measure(connections: connections, seconds: min(seconds, 3), direct: true, context: context)
        let through = await measure(connections: connections, seconds: seconds, direct: false, context: context)
        // Let the turns just started finish before the next scenario.
        try await Task.sleep(for: .seconds(2))
        return Result(
            connections: connections, seconds: through.seconds, turns: through.measured.count - through.measured.errors,
            turnsPerSecond: Double(through.measured.count - through.measured.errors) / through.seconds,
            latency: Summary(through.measured.latencies), errors: through.measured.errors, firstFailure: through.measured.firstFailure,
            mockAlonePerSecond: Double(alone.measured.count - alone.measured.errors) / alone.seconds,
            mockAloneLatency: Summary(alone.measured.latencies))
    }

    private static func measure(connections: Int, seconds: Double, direct: Bool, context: BenchContext) async -> (measured: Measured, seconds: Double) {
        let tally = Locked(Measured())
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(seconds * 1000))
        let message = MockScript(chunks: 1).message
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let driver = context.makeDriver()
                    defer { driver.close() }
                    var local = Measured()
                    while ContinuousClock.now < deadline {
                        let result = try? await (direct
                            ? driver.direct(message: message)
                            : driver.post(message: message, session: context.freshSession())).get()
                        local.count += 1
                        if let result, result.ok {
                            local.latencies.append(result.total)
                        } else {
                            local.errors += 1
                            local.firstFailure = local.firstFailure ?? result?.failure ?? "no result"
                        }
                    }
                    tally.withLock { totals in
                        totals.count += local.count
                        totals.errors += local.errors
                        totals.firstFailure = totals.firstFailure ?? local.firstFailure
                        totals.latencies += local.latencies
                    }
                }
            }
        }
        return (tally.value, BenchClock.ms(started.duration(to: .now)) / 1000)
    }
}
