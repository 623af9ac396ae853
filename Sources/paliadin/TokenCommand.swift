import ArgumentParser
import Foundation
import Logging
import PaliadinServer
import PaliadinStore

/// `paliadin token create|list|revoke`: API tokens, stored hashed.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct DatabaseOption: ParsableArguments {
        @Option(help: "SQLite database file or postgres:// URL. [env PALIADIN_DATABASE, default ./data/paliadin.sqlite]")
        var database: String?

        @Option(help: "The configuration file of paliadin serve, whose database is meant. [env PALIADIN_CONFIG]")
        var config: String?

        /// The database: the flag, else the environment, else the configuration file, else the default.
        func location() throws -> String {
            let environment = ProcessInfo.processInfo.environment
            if let database { return database }
            if let value = environment["PALIADIN_DATABASE"], !value.isEmpty { return value }
            guard let path = config ?? environment["PALIADIN_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) else {
                return AppConfiguration().databasePath
            }
            do {
                // Only its database: the rest of the file is serve's business.
                return try ConfigurationFile.load(path: path).value(of: "database") ?? AppConfiguration().databasePath
            } catch let error as ConfigurationError {
                throw CommandFailure(error.description)
            }
        }

        /// Opens the database, runs `body` with it, and closes it. The schema is created or
        /// upgraded first, unless `readOnly`: a reader neither creates a database (a mistyped
        /// path is an error, not a new empty file) nor changes a schema that other instances share.
        func withStore<T: Sendable>(readOnly: Bool = false, _ body: @Sendable (any TurnStore) async throws -> T) async throws -> T {
            let location = try location()
            guard location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") else {
                if readOnly, !FileManager.default.fileExists(atPath: location) {
                    throw CommandFailure("there is no database at \(location) (check --database, PALIADIN_DATABASE or --config)")
                }
                let store = try SQLiteTurnStore(path: location)
                if !readOnly { try await store.migrate() }
                return try await body(store)
            }
            let store = try PostgresTurnStore(url: location, poolSize: 2, logger: Logger(label: "paliadin"))
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await store.run()
                    return nil
                }
                defer { group.cancelAll() }
                if !readOnly { try await store.migrate() }
                return try await body(store)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token for a user and print it once.")

        @Option(help: "The user (id or email) the token acts as.")
        var user: String

        @Option(help: "A note to recognise the token by.")
        var label: String = ""

        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let token = TokenHasher.newToken()
            let id = String(UUID().uuidString.lowercased().prefix(8))
            let stored = StoredToken(id: id, userID: PaliadinUser(id: user).id, hash: TokenHasher.hash(token), label: label, createdAt: Date())
            try await database.withStore { store in try await store.insertToken(stored) }
            print(token)
            FileHandle.standardError.write(Data("token \(id) for \(user) created; it is shown only this once\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            for token in try await database.withStore({ store in try await store.tokens() }) {
                let state = token.revokedAt == nil ? "active" : "revoked"
                print("\(token.id)\t\(token.userID)\t\(state)\t\(token.createdAt.formatted(.iso8601))\t\(token.label)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @Argument(help: "The token id shown by create and list.") var id: String
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let id = self.id
            guard try await database.withStore({ store in try await store.revokeToken(id: id, at: Date()) }) else {
                throw CommandFailure("no active token with id \(id)")
            }
            print("revoked \(id)")
        }
    }
}

/// `paliadin migrate`: creates or upgrades the database schema (refuses a schema newer than
/// this Paliadin knows). With PostgreSQL, run it before rolling out a new version to several instances.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema.")
    @OptionGroup var database: TokenCommand.DatabaseOption

    func run() async throws {
        try await database.withStore { _ in }
        print("database is up to date")
    }
}

/// A command that could not do its job (as opposed to a usage mistake): printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
