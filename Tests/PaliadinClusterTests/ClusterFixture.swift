import Foundation
import Logging
import PaliadinTestSupport
import PostgresNIO
import Subprocess

/// What a multi-instance test needs: a fresh PostgreSQL database and the mock upstream.
enum ClusterFixture {
    /// The private PostgreSQL server `scripts/cluster-test.sh` starts (nil: the suite is skipped).
    static let serverURL: String? = ProcessInfo.processInfo.environment["PALIADIN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Creates an empty database on the test server; returns its URL.
    static func freshDatabase() async throws -> String {
        guard let serverURL, var components = URLComponents(string: serverURL) else { throw ClusterTestFailure("no PALIADIN_TEST_POSTGRES_URL") }
        let name = "paliadin_cluster_\(UUID().uuidString.prefix(8).lowercased())"
        try await execute("CREATE DATABASE \(name)", on: serverURL)
        components.path = "/" + name
        return components.string!
    }

    /// Runs `body` with the mock upstream's base URL and a fresh database, dropped afterwards.
    static func withUpstreamAndDatabase<T: Sendable>(_ body: @Sendable (_ backendURL: String, _ database: String) async throws -> T) async throws -> T {
        let database = try await freshDatabase()
        let result: T
        do {
            result = try await MockOpenAIUpstream().run { backendURL in try await body(backendURL, database) }
        } catch {
            try? await dropDatabase(database)
            throw error
        }
        try await dropDatabase(database)
        return result
    }

    /// Drops a database `freshDatabase` made (its instances have stopped; stray connections are ended).
    static func dropDatabase(_ url: String) async throws {
        guard let serverURL, let name = URLComponents(string: url)?.path.dropFirst() else { return }
        try await execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: serverURL)
    }

    /// Runs `body` with two instances, `a` and `b`, on a fresh database and the mock upstream;
    /// stops them at the end.
    static func withTwoInstances(_ body: @Sendable (_ a: PaliadinProcess, _ b: PaliadinProcess) async throws -> Void) async throws {
        try await withUpstreamAndDatabase { backendURL, database in
            let a = try await PaliadinProcess(name: "a", database: database, backendURL: backendURL)
            defer { a.stop() }
            let b = try await PaliadinProcess(name: "b", database: database, backendURL: backendURL)
            defer { b.stop() }
            try await body(a, b)
        }
    }

    /// Restarts the test PostgreSQL server (same port), as an operator or a crash would.
    ///
    /// Through swift-subprocess: Foundation's `Process` lost track of this script's exit in
    /// this test process (the script starts a server that outlives it) and never reaped it.
    static func restartServer() async throws {
        let script = PaliadinProcess.repositoryRoot.appendingPathComponent("scripts/postgres.sh").path
        let result = try await Subprocess.run(
            .path("/bin/bash"), arguments: [script, "restart"], output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
        guard result.terminationStatus.isSuccess else {
            throw ClusterTestFailure("scripts/postgres.sh restart failed: \(result.standardError)")
        }
    }
}

extension ClusterFixture {
    /// Runs one statement on the database at `url`.
    static func execute(_ sql: String, on url: String) async throws {
        guard let components = URLComponents(string: url) else { throw ClusterTestFailure("bad URL \(url)") }
        let configuration = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: String(components.path.dropFirst()), tls: .disable)
        let logger = Logger(label: "cluster-tests")
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 2, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// Runs `paliadin ARGUMENTS` to its end; returns its exit status and output.
    static func runPaliadin(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PaliadinProcess.binary)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PALIADIN_") }
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
