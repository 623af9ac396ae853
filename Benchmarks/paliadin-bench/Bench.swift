import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// `paliadin-bench`: what Paliadin adds, measured against a mock upstream directly and
/// through a real `paliadin serve` process side by side. See `BenchReport+Markdown.swift`
/// for how each figure is measured.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paliadin-bench",
        abstract: "Measure Paliadin's added latency, concurrent streams, memory, CPU and turn rate against a mock upstream.")

    /// The scenarios, in the order `all` runs them.
    enum Scenario: String, CaseIterable, ExpressibleByArgument {
        case ttft, cpu, post, streams, rss, all
    }

    @Option(help: "Path of the paliadin binary to measure (build it with -c release).")
    var paliadin: String?

    @Option(help: "Scenarios to run, comma-separated: ttft, streams, rss, cpu, post, all.")
    var scenario = "all"

    @Flag(help: "Shorter runs (fewer turns, shorter levels) while developing.")
    var quick = false

    @Option(help: "Measured turns per path at concurrency 1 (ttft), and store operations (--store-only).")
    var iterations = 300

    @Option(help: "Concurrent stream levels, comma-separated (streams).")
    var levels = "250,500,1000,2000,3000"

    @Option(help: "Seconds each stream level is held (streams).")
    var streamSeconds = 10.0

    @Option(help: "Workers started per 100 ms (streams).")
    var ramp = 250

    @Flag(help: "Measure only the mock and the client alone (their own ceiling) with paced streams at each of --levels; no Paliadin.")
    var ceilingOnly = false

    @Option(help: "Concurrent streams of the rss scenario when run without streams.")
    var rssStreams = 1000

    @Option(help: "Turns of the cpu scenario.")
    var cpuTurns = 2000

    @Option(help: "Keep-alive connections of the post scenario.")
    var postConnections = 32

    @Option(help: "Seconds of the post scenario.")
    var postSeconds = 5.0

    @Option(help: "Event loop threads of the load client.")
    var clientThreads = 1

    @Option(help: "Event loop threads of the mock upstream.")
    var mockThreads = 1

    @Option(help: "Write the results as JSON here.")
    var json: String?

    @Option(help: "Write the Markdown report here (it is printed too).")
    var markdown: String?

    @Option(help: "Run Paliadin on this PostgreSQL database (postgres:// URL; an empty one) instead of a fresh SQLite file.")
    var postgres: String?

    @Flag(help: "Measure only the SQLite store's operations.")
    var storeOnly = false

    @Flag(help: "Only run the mock upstream (prints its URL) until interrupted, e.g. to check it with wrk or curl.")
    var mockOnly = false

    func run() async throws {
        var report = BenchReport(quick: quick, clientThreads: clientThreads, mockThreads: mockThreads)
        report.database = postgres == nil ? "SQLite" : "PostgreSQL"
        if mockOnly {
            let mock = try await MockUpstream(threads: mockThreads)
            FileHandle.standardOutput.write(Data("mock upstream: \(mock.baseURL)/chat/completions\n".utf8))
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        if storeOnly {
            report.scenarios = ["store"]
            report.store = try await StoreBench.run(iterations: iterations)
        } else {
            guard let paliadin = paliadin ?? (ceilingOnly ? "" : nil) else { throw ValidationError("--paliadin is required (or --store-only)") }
            let chosen = try Self.parse(scenario)
            report.scenarios = chosen.map(\.rawValue)
            try await measure(chosen, paliadin: paliadin, into: &report)
        }
        if ceilingOnly { return }
        report.checkTargets()
        let text = report.markdown
        print(text)
        if let markdown { try text.write(toFile: markdown, atomically: true, encoding: .utf8) }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
    }

    private func measure(_ chosen: [Scenario], paliadin: String, into report: inout BenchReport) async throws {
        let mock = try await MockUpstream(threads: mockThreads)
        let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: clientThreads)
        let context: BenchContext
        do {
            let gateway = ceilingOnly ? nil : try GatewayProcess(binary: paliadin, backendURL: mock.baseURL, postgresURL: postgres)
            context = BenchContext(mock: mock, gateway: gateway, clientGroup: clientGroup, quick: quick)
        } catch {
            await shutdown(mock: mock, clientGroup: clientGroup)
            throw error
        }
        do {
            try await runScenarios(chosen, context: context, into: &report)
        } catch {
            context.gateway?.stop()
            await shutdown(mock: mock, clientGroup: clientGroup)
            throw error
        }
        context.gateway?.stop()
        await shutdown(mock: mock, clientGroup: clientGroup)
        if chosen.contains(.ttft), !ceilingOnly, postgres == nil {
            // Part of every full run: the SQLite store alone.
            report.store = try await StoreBench.run(iterations: quick ? 100 : 500)
        }
    }

    private func runScenarios(_ chosen: [Scenario], context: BenchContext, into report: inout BenchReport) async throws {
        guard let gateway = context.gateway else {
            // Only the mock and the client: their own ceiling with paced streams.
            for level in try Self.parseLevels(levels) {
                let result = try await StreamsScenario.runLevel(
                    level, direct: true, seconds: quick ? min(streamSeconds, 3) : streamSeconds, rampPerTick: ramp, idleKiB: 0, context: context)
                context.log(
                    "direct \(level): turns \(result.turns), streaming \(Int(result.meanStreamingStreams)), frames/s \(Int(result.contentFramesPerSecond)), errors \(result.errors), max gap \(result.maxGapMS) ms, p99 gap \(result.p99GapMS) ms, "
                        + "TTFT p99 \(result.p99TTFTMS) ms, bench CPU \(BenchReport.format(result.benchCPUSeconds, 2)) s in \(BenchReport.format(result.seconds, 2)) s")
            }
            return
        }
        try await gateway.waitUntilReady(on: context.clientGroup.next())
        try await warmUp(context)
        report.idleAtStartKiB = gateway.rssKiB
        context.log("paliadin pid \(gateway.pid), idle RSS \(report.idleAtStartKiB ?? 0) KiB")
        if chosen.contains(.ttft) {
            for testCase in TTFTScenario.cases(quick: quick, iterations: iterations) {
                report.ttft.append(await TTFTScenario.run(testCase, context: context))
            }
        }
        if chosen.contains(.cpu) {
            report.cpu = try await CPUScenario.run(turns: quick ? min(cpuTurns, 400) : cpuTurns, concurrency: 16, context: context)
        }
        if chosen.contains(.post) {
            report.post = try await PostScenario.run(connections: postConnections, seconds: quick ? min(postSeconds, 2) : postSeconds, context: context)
        }
        if chosen.contains(.streams) || chosen.contains(.rss) {
            let levels = chosen.contains(.streams) ? try Self.parseLevels(levels) : [rssStreams]
            report.streams = try await StreamsScenario.run(
                levels: levels, seconds: quick ? min(streamSeconds, 3) : streamSeconds, rampPerTick: ramp,
                directCeiling: chosen.contains(.streams), context: context)
        }
    }

    /// A few hundred turns on both paths, so connections, caches and the database are warm.
    private func warmUp(_ context: BenchContext) async throws {
        let script = MockScript(chunks: 64)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let driver = context.makeDriver()
                    defer { driver.close() }
                    for _ in 0..<(context.quick ? 10 : 25) {
                        _ = try? await driver.direct(message: script.message).get()
                        _ = try? await driver.through(message: script.message, session: context.freshSession()).get()
                    }
                }
            }
        }
        try await Task.sleep(for: .seconds(2))
    }

    private func shutdown(mock: MockUpstream, clientGroup: MultiThreadedEventLoopGroup) async {
        await mock.shutdown()
        try? await clientGroup.shutdownGracefully()
    }

    static func parse(_ text: String) throws -> [Scenario] {
        var chosen: [Scenario] = []
        for word in text.split(separator: ",") {
            guard let scenario = Scenario(rawValue: word.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("unknown scenario \(word); expected \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            chosen.append(scenario)
        }
        return chosen.contains(.all) ? Scenario.allCases : chosen
    }

    static func parseLevels(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty else { throw ValidationError("--levels needs numbers, e.g. 250,500,1000") }
        return values
    }
}
