import ArgumentParser

/// The `paliadin` command.
@main
struct Paliadin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A self-hosted AI assistant gateway for web apps.",
        subcommands: [Serve.self, ConfigCommand.self, TurnsCommand.self, TokenCommand.self, BackendsCommand.self, Migrate.self, ChatCommand.self],
        defaultSubcommand: Serve.self)
}
