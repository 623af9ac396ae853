/// The Markdown report: targets first, then one table per scenario, then how it is measured.
extension BenchReport {
    var markdown: String {
        var out: [String] = []
        if !targets.isEmpty {
            out.append("## Targets\n")
            out.append("| figure | measured | target | |")
            out.append("|---|---|---|---|")
            for target in targets {
                out.append("| \(target.figure) | \(target.measured) | \(target.target) | \(target.met ? "met" : "**not met**") |")
            }
            out.append("")
        }
        if !ttft.isEmpty {
            out.append("## a. Time to first content, direct and through Paliadin (interleaved)\n")
            for result in ttft { out.append(Self.ttftTable(result)) }
        }
        if let streams { out.append(Self.streamsTable(streams, idleAtStartKiB: idleAtStartKiB)) }
        if let cpu { out.append(Self.cpuTable(cpu)) }
        if let post { out.append(Self.postTable(post)) }
        if let store { out.append(Self.storeTable(store)) }
        out.append(Self.method)
        return out.joined(separator: "\n")
    }

    private static func f(_ value: Double, _ decimals: Int = 3) -> String { format(value, decimals) }

    private static func mib(_ kib: Int) -> String { f(Double(kib) / 1024, 1) }

    private static func row(_ name: String, _ summary: Summary) -> String {
        "| \(name) | \(f(summary.p50)) | \(f(summary.p90)) | \(f(summary.p99)) |"
    }

    static func ttftTable(_ r: TTFTScenario.Result) -> String {
        var lines = [
            "### \(r.name)\n",
            "\(r.turnsPerPath) turns per path; errors: direct \(r.errorsDirect), through \(r.errorsThrough)"
                + (r.firstFailure.map { " (first: \($0))" } ?? "")
                + "; content frames per turn: direct \(f(r.meanContentFramesDirect, 1)), through \(f(r.meanContentFramesThrough, 1)).\n",
            "| figure (ms) | p50 | p90 | p99 |",
            "|---|---|---|---|",
            row("time to first content, direct to the mock", r.directTTFT),
            row(
                r.oneRequest
                    ? "time to first content, through Paliadin (one POST answered with the stream)"
                    : "time to first content, through Paliadin (POST turn + SSE)", r.throughTTFT),
            "| **added time to first content** | **\(f(r.addedTTFTP50))** | | **\(f(r.addedTTFTP99))** |",
        ]
        if let direct = r.relayDirect, let through = r.relayThrough {
            lines.append(row("relay: mock's first-content write → client, direct", direct))
            lines.append(row("relay: mock's first-content write → client, through Paliadin", through))
            lines.append("| **added relay latency** | **\(f(through.p50 - direct.p50))** | | **\(f(through.p99 - direct.p99))** |")
        }
        if !r.oneRequest { lines.append(row("through Paliadin: POST /turn answered", r.postAnswered)) }
        lines += [
            row("through Paliadin: stream head received", r.streamHead),
            row("through Paliadin: first content after the stream head", r.firstContentAfterStreamHead),
            row("total time, direct", r.directTotal),
            row("total time, through Paliadin", r.throughTotal),
            "| added total time | \(f(r.addedTotalP50)) | | \(f(r.throughTotal.p99 - r.directTotal.p99)) |",
            "",
        ]
        return lines.joined(separator: "\n")
    }

    static func cpuTable(_ r: CPUScenario.Result) -> String {
        """
        ## d. CPU per 1,000 turns

        \(r.turns) turns of \(r.chunks) chunks (burst) through Paliadin at concurrency \(r.concurrency), \(f(r.seconds, 1)) s \
        (\(f(Double(r.turns) / max(r.seconds, 0.001), 0)) turns/s); errors: \(r.errors)\(r.firstFailure.map { " (first: \($0))" } ?? "").

        | figure | CPU seconds per 1,000 turns |
        |---|---|
        | **Paliadin process (user + system, all threads)** | **\(f(r.paliadinCPUSecondsPer1000))** |
        | bench process (client + mock), turns through Paliadin | \(f(r.benchCPUSecondsPer1000Through)) |
        | bench process (client + mock), the same turns direct | \(f(r.benchCPUSecondsPer1000Direct)) |

        """
    }

    static func postTable(_ r: PostScenario.Result) -> String {
        """
        ## e. POST /turn rate

        \(r.connections) keep-alive connections posting turns back to back for \(f(r.seconds, 1)) s (each turn runs against \
        the mock with 1 chunk; the streams are not opened); errors: \(r.errors)\(r.firstFailure.map { " (first: \($0))" } ?? "").

        | figure | rate (/s) | p50 (ms) | p90 (ms) | p99 (ms) |
        |---|---|---|---|---|
        | **POST /api/paliadin/turn, through Paliadin** | **\(f(r.turnsPerSecond, 0))** | \(f(r.latency.p50)) | \(f(r.latency.p90)) | **\(f(r.latency.p99))** |
        | the same connections, 1-chunk streams from the mock alone (client + mock ceiling) | \(f(r.mockAlonePerSecond, 0)) | \(f(r.mockAloneLatency.p50)) | \(f(r.mockAloneLatency.p90)) | \(f(r.mockAloneLatency.p99)) |

        """
    }

    static func streamsTable(_ r: StreamsScenario.Result, idleAtStartKiB: Int?) -> String {
        var lines = [
            "## b. Concurrent paced streams (64 deltas @ 20 ms)\n",
            "Pass: no gap > \(f(StreamsScenario.gapLimitMS, 0)) ms between content frames and no error. Highest level passed: **\(r.highestPassed)**.\n",
            "*streaming* is the mean number of streams delivering content over the level (Σ time from first content to end / level time); "
                + "it falls short of the level when turns wait to start (see TTFT). CPU is over the level's whole time.\n",
            "| path | streams | s | turns | streaming | content frames/s | errors | max gap (ms) | p99 gap (ms) | TTFT p50 (ms) | TTFT p99 (ms) | Paliadin CPU (s) | bench CPU (s) | Paliadin RSS peak (MiB) | KiB per stream | |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for level in [r.directCeiling].compactMap({ $0 }) + r.levels {
            let rss = level.path == "direct" ? "" : mib(level.rssPeakKiB)
            let perStream = level.path == "direct" ? "" : f(level.rssPerStreamKiB, 1)
            lines.append(
                "| \(level.path) | \(level.streams) | \(f(level.seconds, 1)) | \(level.turns) | \(f(level.meanStreamingStreams, 0)) | "
                    + "\(f(level.contentFramesPerSecond, 0)) | \(level.errors) | \(f(level.maxGapMS, 1)) | "
                    + "\(f(level.p99GapMS, 1)) | \(f(level.p50TTFTMS, 1)) | \(f(level.p99TTFTMS, 1)) | \(f(level.paliadinCPUSeconds, 1)) | "
                    + "\(f(level.benchCPUSeconds, 1)) | \(rss) | \(perStream) | \(level.passed ? "pass" : "**fail**") |")
        }
        if let failure = (r.levels + [r.directCeiling].compactMap { $0 }).compactMap(\.firstFailure).first {
            lines.append("\nFirst failure seen: `\(failure)`.")
        }
        let m = r.memory
        lines += [
            "\n## c. Paliadin's resident memory (VmRSS)\n",
            "| figure | MiB |",
            "|---|---|",
        ]
        if let idleAtStartKiB { lines.append("| idle, after start and warm-up | \(mib(idleAtStartKiB)) |") }
        lines += [
            "| idle, just before the streams load | \(mib(m.idleBeforeLoadKiB)) |",
            "| peak under the streams load | \(mib(m.peakKiB)) |",
            "| per open stream ((peak at \(m.peakStreams) streams − idle) / streams) | \(f(m.perStreamKiB, 1)) KiB |",
            "| after load (\(f(m.afterLoadSeconds, 0)) s after the streams ended) | \(mib(m.afterLoadKiB)) |",
        ]
        if let idleAnon = m.idleBeforeLoadAnonKiB, let afterAnon = m.afterLoadAnonKiB {
            lines += [
                "| of which anonymous (RssAnon: heap, stacks; the rest is mapped code), idle before the load | \(mib(idleAnon)) |",
                "| of which anonymous, after load | \(mib(afterAnon)) |",
            ]
        }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    static func storeTable(_ r: StoreBench.Result) -> String {
        var lines = [
            "## SQLite store, alone\n",
            "| SQLite store operation (ms, \(r.iterations) each) | p50 | p90 | p99 |",
            "|---|---|---|---|",
        ]
        lines += r.rows.map { row($0.operation, $0.latency) }
        lines.append("")
        return lines.joined(separator: "\n")
    }

    static let method = """
        ## How it is measured

        `Benchmarks/paliadin-bench` starts, in one process, a **mock OpenAI-compatible upstream** on SwiftNIO \
        (its own event loop; pre-encoded chunks; burst, paced or delayed answers chosen by the last user message, \
        e.g. `bench:chunks=64 interval=20ms`) and a **load client** on SwiftNIO (NIO's HTTP/1.1 codec; SSE scanned \
        as bytes: only `event:` lines through Paliadin, `data:` lines holding a content delta direct). It starts \
        one real `paliadin serve` child process (release build, SQLite in WAL mode, every event persisted, dev mode) \
        pointed at the mock. A turn **direct** is one streamed `POST /v1/chat/completions` to the mock on a \
        keep-alive connection; a turn **through Paliadin** is `POST /api/paliadin/turn` on a keep-alive \
        connection, then `GET` of its `sse_url`, read to the `end` event, on the same connection while Paliadin's \
        answers allow keep-alive (else on a new one, as a browser would). Each turn runs as one chain of NIO futures on the client's event \
        loop, so the times do not include hops between threads of the harness. Times are monotonic (`NIODeadline`).

        - **a.** Workers alternate a direct turn and a turn through Paliadin (the order swapped every turn); \
        the added figures are through − direct of the same percentile. *Relay* is the time from the mock's flush \
        of the first content chunk to its arrival at the client (tagged turns). With a first-chunk delay the \
        POST/SSE exchange overlaps the model's delay.
        - **b.** N workers, started a few hundred per 100 ms, each running turns back to back (a finished stream \
        is replaced by a new turn) for the level's time. Every gap between two content frames at the client is \
        counted. The direct row runs the same load against the mock alone: the ceiling of the client and mock, \
        which share the machine's cores with Paliadin.
        - **c.** VmRSS of the Paliadin process from `/proc/PID/status`, sampled every 100 ms during each level.
        - **d.** utime + stime of the Paliadin process from `/proc/PID/stat` across a known number of turns \
        (plus 0.5 s for the last event batches to be written).
        - **e.** C keep-alive connections, each posting the next turn as soon as the last is answered; latency is \
        from writing the request to the end of the answer.
        """
}
