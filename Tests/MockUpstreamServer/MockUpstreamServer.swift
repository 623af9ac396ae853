import ArgumentParser
import Foundation
import PaliadinTestSupport

/// The test mock upstream as a process, for suites that drive a real Paliadin from outside
/// (the browser tests): `paliadin-mock-upstream --port 18081` prints its base URL and serves
/// until it is stopped. Its behaviour is steered by each request's last user message, as
/// `MockOpenAIUpstream` documents.
@main
struct MockUpstreamServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paliadin-mock-upstream",
        abstract: "An OpenAI-compatible mock upstream for tests, on 127.0.0.1.")

    @Option(help: "Port to listen on (0: a free one).")
    var port = 0

    func run() async throws {
        try await MockOpenAIUpstream().run(port: port) { baseURL in
            FileHandle.standardOutput.write(Data((baseURL + "\n").utf8))
            // Serve until the process is stopped.
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
    }
}
