import ArgumentParser
import Foundation
import PaliadinServer

/// `paliadin backends check`: asks every configured backend a tiny question.
struct BackendsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backends", abstract: "Work with the configured backends.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask each configured backend a tiny question and report which answer (exit status 1 if any does not).")

        @Option(help: "YAML file naming the backends. [env PALIADIN_BACKENDS_FILE; without it, the single backend of the flags below]")
        var backendsFile: String?

        @Option(help: "Base URL of the OpenAI-compatible backend. [env PALIADIN_BACKEND_URL, default http://127.0.0.1:8081/v1]")
        var backendURL: String?

        @Option(help: "Model name sent to the backend. [env PALIADIN_MODEL, default smollm2]")
        var model: String?

        @Option(help: "How long each backend gets to answer, e.g. 30s.")
        var timeout: String = "30s"

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            func value(_ flag: String?, _ variable: String) -> String? {
                flag ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
            }
            var configuration = AppConfiguration()
            if let path = value(backendsFile, "PALIADIN_BACKENDS_FILE") {
                do {
                    configuration.backendsFile = try BackendsFileLoader.load(path: path)
                } catch let error as BackendsFileError {
                    throw ValidationError(error.description)
                }
            }
            if let url = value(backendURL, "PALIADIN_BACKEND_URL") { configuration.backendURL = url }
            if let model = value(model, "PALIADIN_MODEL") { configuration.model = model }
            configuration.apiKey = environment["PALIADIN_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
            guard let limit = SettingValue.duration(timeout), limit > .zero else { throw ValidationError("timeout must be a duration like 30s") }
            let results: [BackendCheckResult]
            do {
                results = try await BackendCheck.run(configuration, environment: environment, timeout: limit)
            } catch let error as BackendsFileError {
                throw ValidationError(error.description)
            }
            for result in results {
                let mark = result.answered ? "ok  " : "FAIL"
                let first = result.firstTextMS.map { "first text \($0) ms, " } ?? ""
                let label = result.isDefault ? "\(result.name) (default)" : result.name
                print("\(mark) \(label) [\(result.model)]: \(first)\(result.totalMS) ms — \(result.detail)")
            }
            if results.contains(where: { !$0.answered }) { throw ExitCode(1) }
        }
    }
}
