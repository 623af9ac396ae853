import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PaliadinServer

/// `paliadin serve`: runs the gateway.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Paliadin server.",
        discussion: """
            Every option can also be set by the environment variable named in its help, or in the \
            configuration file (--config) under its key (the option's name with underscores); a flag \
            wins over the environment, which wins over the file. Durations take ms, s, m or h (a plain \
            number is seconds). `paliadin config check` shows the effective configuration.
            """)

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let loaded = try options.loadForCommand()
        let configuration = loaded.configuration
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch configuration.logFormat {
                case .text: StreamLogHandler.standardError(label: label)
                case .json: JSONLogHandler(label: label)
                }
            handler.logLevel = configuration.logLevel
            return handler
        }
        let logger = Logger(label: "paliadin")
        for warning in loaded.warnings { logger.warning("\(warning)") }
        let app = try await buildApplication(configuration, logger: logger)
        let base = "http://\(configuration.host):\(configuration.port)"
        var banner = "Paliadin chat page: \(base)/paliadin  (dashboard: \(base)/admin/paliadin)\n"
        if let devUser = configuration.devUser {
            banner += "Dev mode: requests from this machine act as \(devUser); no login needed.\n"
            banner += "From a terminal: paliadin chat --server \(base) \"your question\"\n"
        } else {
            banner += "Log in with a bearer token: paliadin token create --user EMAIL\n"
            if configuration.sessionKey != nil { banner += "Browsers sign in at \(base)/paliadin/session?token=<token signed by your app>\n" }
        }
        // Written straight to the file descriptor, so it shows at once even when stdout is a pipe.
        FileHandle.standardOutput.write(Data(banner.utf8))
        try await app.runService()
    }
}
