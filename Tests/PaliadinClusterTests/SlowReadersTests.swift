import Foundation
import PaliadinTestSupport
import Synchronization
import Testing

/// 500 readers that never read, or read a byte a second, on running turns, against a real
/// `paliadin serve` on SQLite (so its memory and open connections can be read from /proc).
/// Needs no PostgreSQL, but runs where the cluster suites run (`scripts/cluster-test.sh`, which
/// sets `PALIADIN_BINARY`), not beside the whole package's tests: its pace checks want a
/// machine that is not also running two hundred other tests.
@Suite("Slow readers", .enabled(if: ProcessInfo.processInfo.environment["PALIADIN_BINARY"] != nil))
struct SlowReadersTests {
    static let readers = Int(ProcessInfo.processInfo.environment["SLOW_READERS"] ?? "") ?? 500
    static let stalledTimeout = 8

    @Test("500 readers that never read or read a byte a second: the turns and other readers keep their pace, memory stays bounded, the stalled are closed")
    func fiveHundredSlowReaders() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-slow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await MockOpenAIUpstream().run { baseURL in
            let server = try await PaliadinProcess(
                name: "slow-readers", database: folder.appendingPathComponent("paliadin.sqlite").path, backendURL: baseURL,
                environment: [
                    "PALIADIN_STALLED_READER_TIMEOUT": "\(Self.stalledTimeout)s", "PALIADIN_IDLE_TIMEOUT": "\(Self.stalledTimeout)s",
                    "PALIADIN_LOG_LEVEL": "info",
                ])
            defer { server.stop() }
            let client = ClusterClient(base: server.base)
            #expect(try await client.stream(try await client.startTurn("hello")).last?.name == "end")
            let idleKiB = server.residentKiB
            let idleFiles = server.openFiles

            // Two turns of about 6 s each: 12 MiB in 16 KiB pieces, and 600 small chunks.
            let big = try await client.startTurn("mock:huge=12 delay=6ms")
            let paced = try await client.startTurn("mock:chunks=600 delay=10ms")
            let peakKiB = Mutex(0)
            let pid = server.pid
            let port = server.port
            let sampling = Task {
                while !Task.isCancelled {
                    let now = PaliadinProcess.residentKiB(of: pid)
                    peakKiB.withLock { $0 = max($0, now) }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            }
            defer { sampling.cancel() }
            // A reader that reads, on each turn, from the start.
            async let bigRead = client.stream(big)
            async let pacedRead = client.stream(paced)

            // Half never read; half read one byte a second. Half on each turn.
            let slow = try await withThrowingTaskGroup(of: (SlowReader, Bool).self) { group in
                for index in 0..<Self.readers {
                    group.addTask {
                        let turn = index % 2 == 0 ? big : paced
                        let reader = try await SlowReader(port: port, path: "/api/paliadin/stream/\(turn)", readSize: 1)
                        return (reader, index % 4 < 2)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let trickle = Task {
                while !Task.isCancelled {
                    for (reader, reads) in slow where reads { reader.read() }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            defer { trickle.cancel() }
            var connected = server.openFiles
            for _ in 0..<100 where connected < idleFiles + Self.readers {
                try await Task.sleep(for: .milliseconds(100))
                connected = server.openFiles
            }
            #expect(connected >= idleFiles + Self.readers, "the 500 readers are connected: \(connected) open files, \(idleFiles) before")

            // The turns and the readers that read keep their pace.
            let bigEvents = try await bigRead
            let pacedEvents = try await pacedRead
            #expect(bigEvents.last?.name == "end")
            #expect(bigEvents.text.utf8.count == 12 * 1024 * 1024)
            #expect(pacedEvents.last?.name == "end")
            #expect(pacedEvents.text == ClusterTests.expectedText(600))
            let pacedRow = try await client.turn(paced)
            let bigRow = try await client.turn(big)
            #expect(pacedRow["status"] as? String == "completed")
            #expect(bigRow["status"] as? String == "completed")
            // 600 chunks 10 ms apart take 6 s upstream. A turn (or reader) held up by the slow
            // readers would wait for their timeout (8 s) at least once.
            let pacedMS = pacedRow["duration_ms"] as? Int ?? .max
            #expect(pacedMS < 20_000, "the paced turn took \(pacedMS) ms (6,000 upstream)")
            let gaps = zip(pacedEvents.dropFirst(), pacedEvents).map { $0.at - $1.at }
            let longestGap = gaps.max() ?? .zero
            #expect(longestGap < .seconds(3), "the reading reader waited \(longestGap) between two events")

            // Memory: a slow reader holds one bounded frame and a socket's worth of data, never
            // the answer (250 readers each holding a page of this answer would need gigabytes).
            // The turns themselves hold their 12 MiB answer in memory.
            let grownKiB = peakKiB.withLock { $0 } - idleKiB
            // Measured: 171–211 MiB (57 of them the turns'); pages of 256 events, as before the
            // bound by bytes, would let the 250 readers of the big turn hold up to 4 MiB each.
            #expect(grownKiB < 320 * 1024, "resident memory grew by \(grownKiB / 1024) MiB with 500 slow readers")

            // The stalled readers are closed after the timeout (the server's sockets go away).
            var files = server.openFiles
            for _ in 0..<(Self.stalledTimeout * 2 + 20) where files > idleFiles + 20 {
                try await Task.sleep(for: .seconds(1))
                files = server.openFiles
            }
            #expect(files <= idleFiles + 20, "open files: \(files), before the readers: \(idleFiles)")
            // The server goes on.
            #expect(try await client.stream(try await client.startTurn("hello")).last?.name == "end")
            print("[slow-readers] peak RSS growth \(grownKiB) KiB; paced turn \(pacedMS) ms; longest gap \(longestGap)")
            for (reader, _) in slow { await reader.close() }
        }
    }
}
