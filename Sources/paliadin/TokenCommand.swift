import ArgumentParser
import Foundation
import PaliadinServer
import PaliadinStore

/// `paliadin token create|list|revoke`: API tokens, stored hashed.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct DatabaseOption: ParsableArguments {
        @Option(help: "SQLite database file. [env PALIADIN_DATABASE, default ./data/paliadin.sqlite]")
        var database: String?

        func open() async throws -> SQLiteTurnStore {
            let path = database ?? ProcessInfo.processInfo.environment["PALIADIN_DATABASE"].flatMap { $0.isEmpty ? nil : $0 }
                ?? "./data/paliadin.sqlite"
            let store = try SQLiteTurnStore(path: path)
            try await store.migrate()
            return store
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
            let store = try await database.open()
            let token = TokenHasher.newToken()
            let id = String(UUID().uuidString.lowercased().prefix(8))
            try await store.insertToken(
                StoredToken(id: id, userID: PaliadinUser(id: user).id, hash: TokenHasher.hash(token), label: label, createdAt: Date()))
            print(token)
            FileHandle.standardError.write(Data("token \(id) for \(user) created; it is shown only this once\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let store = try await database.open()
            for token in try await store.tokens() {
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
            let store = try await database.open()
            guard try await store.revokeToken(id: id, at: Date()) else {
                throw CommandFailure("no active token with id \(id)")
            }
            print("revoked \(id)")
        }
    }
}

/// `paliadin migrate`: creates or upgrades the database schema.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema.")
    @OptionGroup var database: TokenCommand.DatabaseOption

    func run() async throws {
        _ = try await database.open()
        print("database is up to date")
    }
}

/// A command that could not do its job (as opposed to a usage mistake): printed without the usage text.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
