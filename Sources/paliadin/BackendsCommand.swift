import ArgumentParser
import Foundation
import PaliadinServer

/// `paliadin backends check`: asks every configured backend a tiny question.
struct BackendsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backends", abstract: "Work with the configured backends.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask each configured backend a tiny question and report which answer (exit status 1 if any does not).",
            discussion: "Takes the configuration of `paliadin serve`: the same file, environment variables and flags.")

        @OptionGroup var options: ServerOptions

        @Option(help: "How long each backend gets to answer, e.g. 30s.")
        var timeout: String = "30s"

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let configuration = try options.loadForCommand().configuration
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
