import ArgumentParser
import Foundation
import PaliadinServer

/// `paliadin config check`: validates the configuration and prints the effective one.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check the configuration of paliadin serve.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration file, environment and flags, and print the effective configuration (secrets masked).",
            discussion: """
                Takes the same options as `paliadin serve`. Exit status 0 when serve would accept the \
                configuration, 1 with every problem listed when it would not.
                """)

        @OptionGroup var options: ServerOptions

        func run() async throws {
            let loaded = try options.loadForCommand()
            FileHandle.standardOutput.write(Data(loaded.report().utf8))
            for warning in loaded.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            FileHandle.standardError.write(Data("the configuration is valid\n".utf8))
        }
    }
}

extension ServerOptions {
    /// The effective configuration; a problem ends the command with every problem listed,
    /// without the usage text (the command line was fine, the configuration was not).
    func loadForCommand() throws -> ConfigurationLoader.Loaded {
        do {
            return try load()
        } catch let error as ConfigurationError {
            throw CommandFailure(error.description)
        }
    }
}
