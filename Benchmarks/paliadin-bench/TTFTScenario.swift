/// Scenario a: added time to first content. Workers alternate a direct turn (to the mock) and
/// a turn through Paliadin (POST + SSE), swapping the order every turn, so both paths see the
/// same machine noise; the figures are through − direct.
enum TTFTScenario {
    /// One case: concurrency, script, how many pairs.
    struct Case: Sendable {
        var name: String
        var concurrency: Int
        var script: MockScript
        /// Measured pairs (one direct + one through turn) per worker.
        var pairsPerWorker: Int
        var warmupPerWorker: Int
        /// Tag turns so the mock's first-content write can be matched to its arrival.
        var relay: Bool
        /// Through Paliadin in one request (a POST answered with the stream) instead of POST then GET.
        var oneRequest = false
    }

    /// The figures of one case (ms).
    struct Result: Codable, Sendable {
        var name: String
        var concurrency: Int
        /// Through Paliadin in one request (POST answered with the stream).
        var oneRequest: Bool
        var chunks: Int
        var firstChunkDelayMS: Double
        var turnsPerPath: Int
        var directTTFT: Summary
        var throughTTFT: Summary
        var addedTTFTP50: Double
        var addedTTFTP99: Double
        var directTotal: Summary
        var throughTotal: Summary
        var addedTotalP50: Double
        var postAnswered: Summary
        var streamHead: Summary
        var firstContentAfterStreamHead: Summary
        var relayDirect: Summary?
        var relayThrough: Summary?
        var meanContentFramesDirect: Double
        var meanContentFramesThrough: Double
        var errorsDirect: Int
        var errorsThrough: Int
        var firstFailure: String?
    }

    /// The cases of a full (or quick) run.
    static func cases(quick: Bool, iterations: Int) -> [Case] {
        let single = quick ? min(iterations, 100) : iterations
        let burst = MockScript(chunks: 200)
        return [
            Case(name: "200 chunks, burst, concurrency 1", concurrency: 1, script: burst, pairsPerWorker: single, warmupPerWorker: 30, relay: true),
            Case(name: "200 chunks, burst, concurrency 64", concurrency: 64, script: burst, pairsPerWorker: quick ? 5 : 20, warmupPerWorker: 2, relay: false),
            Case(
                name: "200 chunks, burst, concurrency 1, one request (POST answered with the stream)", concurrency: 1, script: burst,
                pairsPerWorker: single, warmupPerWorker: 30, relay: true, oneRequest: true),
            Case(name: "1 chunk, concurrency 1", concurrency: 1, script: MockScript(chunks: 1), pairsPerWorker: single, warmupPerWorker: 10, relay: true),
            Case(
                name: "200 chunks, first after 20 ms, concurrency 1", concurrency: 1, script: MockScript(chunks: 200, firstMS: 20),
                pairsPerWorker: quick ? 40 : 150, warmupPerWorker: 5, relay: true),
        ]
    }

    static func run(_ testCase: Case, context: BenchContext) async -> Result {
        context.log("ttft: \(testCase.name)")
        let perWorker = await withTaskGroup(of: ([TurnResult], [TurnResult], [Double], [Double]).self) { group in
            for worker in 0..<testCase.concurrency {
                group.addTask { await runWorker(worker, testCase, context: context) }
            }
            var all: [([TurnResult], [TurnResult], [Double], [Double])] = []
            for await part in group { all.append(part) }
            return all
        }
        let direct = perWorker.flatMap(\.0)
        let through = perWorker.flatMap(\.1)
        let relayDirect = perWorker.flatMap(\.2)
        let relayThrough = perWorker.flatMap(\.3)
        let okDirect = direct.filter(\.ok)
        let okThrough = through.filter(\.ok)
        let directTTFT = Summary(okDirect.map(\.ttft))
        let throughTTFT = Summary(okThrough.map(\.ttft))
        let directTotal = Summary(okDirect.map(\.total))
        let throughTotal = Summary(okThrough.map(\.total))
        return Result(
            name: testCase.name, concurrency: testCase.concurrency, oneRequest: testCase.oneRequest, chunks: testCase.script.chunks,
            firstChunkDelayMS: testCase.script.firstMS, turnsPerPath: direct.count,
            directTTFT: directTTFT, throughTTFT: throughTTFT,
            addedTTFTP50: throughTTFT.p50 - directTTFT.p50, addedTTFTP99: throughTTFT.p99 - directTTFT.p99,
            directTotal: directTotal, throughTotal: throughTotal, addedTotalP50: throughTotal.p50 - directTotal.p50,
            postAnswered: Summary(okThrough.map(\.post)), streamHead: Summary(okThrough.map(\.streamHead)),
            firstContentAfterStreamHead: Summary(okThrough.map { BenchClock.ms($0.head, $0.firstContent) }),
            relayDirect: testCase.relay ? Summary(relayDirect) : nil,
            relayThrough: testCase.relay ? Summary(relayThrough) : nil,
            meanContentFramesDirect: mean(okDirect.map { Double($0.contentFrames) }),
            meanContentFramesThrough: mean(okThrough.map { Double($0.contentFrames) }),
            errorsDirect: direct.count - okDirect.count, errorsThrough: through.count - okThrough.count,
            firstFailure: (direct + through).lazy.compactMap(\.failure).first)
    }

    /// One worker: its pairs, alternating which path goes first.
    private static func runWorker(_ worker: Int, _ testCase: Case, context: BenchContext) async -> ([TurnResult], [TurnResult], [Double], [Double]) {
        let driver = context.makeDriver()
        defer { driver.close() }
        var direct: [TurnResult] = []
        var through: [TurnResult] = []
        var relayDirect: [Double] = []
        var relayThrough: [Double] = []
        for index in 0..<(testCase.warmupPerWorker + testCase.pairsPerWorker) {
            var directScript = testCase.script
            var throughScript = testCase.script
            if testCase.relay {
                directScript.tag = "d\(worker).\(index)"
                throughScript.tag = "t\(worker).\(index)"
            }
            var d: TurnResult
            var t: TurnResult
            do {
                let throughTurn = {
                    testCase.oneRequest
                        ? driver.throughOneRequest(message: throughScript.message, session: context.freshSession())
                        : driver.through(message: throughScript.message, session: context.freshSession())
                }
                if (index + worker) % 2 == 0 {
                    d = try await driver.direct(message: directScript.message).get()
                    t = try await throughTurn().get()
                } else {
                    t = try await throughTurn().get()
                    d = try await driver.direct(message: directScript.message).get()
                }
            } catch {
                d = TurnResult(start: 0)
                d.failure = "\(error)"
                t = d
            }
            let directWrite = directScript.tag.flatMap(context.mock.takeFirstContent(tag:))
            let throughWrite = throughScript.tag.flatMap(context.mock.takeFirstContent(tag:))
            guard index >= testCase.warmupPerWorker else { continue }
            direct.append(d)
            through.append(t)
            if let directWrite, d.ok { relayDirect.append(BenchClock.ms(directWrite, d.firstContent)) }
            if let throughWrite, t.ok { relayThrough.append(BenchClock.ms(throughWrite, t.firstContent)) }
        }
        return (direct, through, relayDirect, relayThrough)
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
