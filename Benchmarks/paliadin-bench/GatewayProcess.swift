import Foundation
import NIOCore

/// A `paliadin serve` child process on a free loopback port: dev mode, every event persisted
/// (a fresh SQLite file, or the PostgreSQL database given), logging at `error`.
final class GatewayProcess: Sendable {
    let port: Int
    let database: String
    /// The SQLite file's folder, removed at the end (nil with PostgreSQL).
    private let temporaryFolder: String?
    private let process: Process

    init(binary: String, backendURL: String, postgresURL: String? = nil) throws {
        port = try Self.freePort()
        if let postgresURL {
            database = postgresURL
            temporaryFolder = nil
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-bench-\(UUID().uuidString)")
            database = folder.appendingPathComponent("db.sqlite").path
            temporaryFolder = folder.path
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment
        environment["PALIADIN_LISTEN"] = "127.0.0.1:\(port)"
        environment["PALIADIN_BACKEND_URL"] = backendURL
        environment["PALIADIN_DATABASE"] = database
        environment["PALIADIN_DEV_USER"] = "bench@localhost"
        // PALIADIN_BENCH_LOG_LEVEL=debug shows Paliadin's log on the bench's standard error.
        let logLevel = environment["PALIADIN_BENCH_LOG_LEVEL"]
        environment["PALIADIN_LOG_LEVEL"] = logLevel ?? "error"
        environment["PALIADIN_BACKEND_CONNECTIONS"] = "4096"
        // One dev user starts thousands of turns: no per-user limits.
        environment["PALIADIN_USER_TURNS_PER_MINUTE"] = "0"
        environment["PALIADIN_USER_CONCURRENT_TURNS"] = "0"
        process.environment = environment
        process.standardOutput = logLevel == nil ? FileHandle.nullDevice : FileHandle.standardError
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var rssKiB: Int { ProcessStats.rssKiB(pid: pid) }
    var anonymousRSSKiB: Int { ProcessStats.anonymousRSSKiB(pid: pid) }
    var cpuSeconds: Double { ProcessStats.cpuSeconds(pid: pid) }

    /// Waits until `GET /paliadin/widget.js` answers 200.
    func waitUntilReady(on eventLoop: any EventLoop) async throws {
        for _ in 0..<400 {
            guard process.isRunning else { throw BenchError("paliadin exited with status \(process.terminationStatus)") }
            if let connection = try? await HTTPConnection.connect(port: port, on: eventLoop).get() {
                let record = try await connection.send(method: .GET, uri: "/paliadin/widget.js", reading: .body, timeoutMS: 2000).get()
                connection.close()
                if record.status == 200 { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BenchError("paliadin did not start on port \(port)")
    }

    /// SIGTERM, wait for the exit, remove the database.
    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if let temporaryFolder { try? FileManager.default.removeItem(atPath: temporaryFolder) }
    }

    /// A port the kernel just handed out and released.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
