import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import PaliadinTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real `paliadin serve` process on 127.0.0.1, for the tests that need several instances.
final class PaliadinProcess {
    let port: Int
    let name: String
    private let process: Process
    private let logPath: String

    var base: String { "http://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }

    /// The built `paliadin` binary: `PALIADIN_BINARY`, else the debug build beside the tests.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["PALIADIN_BINARY"], !path.isEmpty { return path }
        return repositoryRoot.appendingPathComponent(".build/debug/paliadin").path
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Starts an instance and waits until it answers.
    init(name: String, database: String, backendURL: String, environment extra: [String: String] = [:]) async throws {
        self.name = name
        port = try await Self.freePort()
        let folder = Self.repositoryRoot.appendingPathComponent(".run/cluster-tests")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        logPath = folder.appendingPathComponent("\(name)-\(port).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PALIADIN_") }
        environment["PALIADIN_LISTEN"] = "127.0.0.1:\(port)"
        environment["PALIADIN_DATABASE"] = database
        environment["PALIADIN_BACKEND_URL"] = backendURL
        environment["PALIADIN_DEV_USER"] = "dev@paliadin.test"
        environment["PALIADIN_HEARTBEAT"] = "500ms"
        environment["PALIADIN_INSTANCE_TIMEOUT"] = "2s"
        environment["PALIADIN_SHUTDOWN_GRACE"] = "1s"
        environment["PALIADIN_LOG_LEVEL"] = "debug"
        environment["PALIADIN_USER_TURNS_PER_MINUTE"] = "0"
        environment["PALIADIN_USER_CONCURRENT_TURNS"] = "0"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        try await waitUntilAnswering()
    }

    /// Kills the process at once (no shutdown at all), as a crash would.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the process gracefully (SIGTERM) and waits for it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Resident memory (VmRSS of /proc/PID/status) in KiB; 0 when unreadable.
    var residentKiB: Int { Self.residentKiB(of: pid) }

    /// Resident memory of process `pid` in KiB; 0 when unreadable.
    static func residentKiB(of pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    /// Open file descriptors (sockets included) of the process.
    var openFiles: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    /// The last lines of the instance's log, for failure messages.
    func logTail(_ lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    private func waitUntilAnswering() async throws {
        for _ in 0..<600 {
            guard process.isRunning else { throw ClusterTestFailure("\(name) exited at start:\n\(logTail())") }
            var request = HTTPClientRequest(url: base + "/api/paliadin/history?session=probe")
            request.method = .GET
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ClusterTestFailure("\(name) did not answer within 30 s:\n\(logTail())")
    }

    /// A port nobody listens on now.
    static func freePort() async throws -> Int {
        try await freeLoopbackPort()
    }
}

struct ClusterTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
