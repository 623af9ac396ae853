import ArgumentParser
import Foundation
import PaliadinCore
import PaliadinServer
import PaliadinStore

/// `paliadin turns list|show|export`: the audit log, read from the database, for an operator.
struct TurnsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "turns", abstract: "Read the audit log: recent turns, one turn in full, or an export.",
        subcommands: [List.self, Show.self, Export.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The most recent turns, newest first.")

        @Option(help: "How many turns (at most 10000).")
        var limit = 20

        @Flag(help: "One JSON object per turn (JSON Lines) instead of a table.")
        var json = false

        @OptionGroup var database: TokenCommand.DatabaseOption

        func validate() throws {
            guard (1...10_000).contains(limit) else { throw ValidationError("limit must be between 1 and 10000") }
        }

        func run() async throws {
            let (limit, json) = (limit, json)
            let output = try await database.withStore(readOnly: true) { store in
                let log = AuditLog(store: store)
                let records = try await log.recent(limit: limit)
                if json { return records.map { AuditLog.line($0) + "\n" }.joined() }
                return records.isEmpty ? "no turns yet\n" : AuditLog.table(records)
            }
            FileHandle.standardOutput.write(Data(output.utf8))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One turn in full, with its whole event log, as JSON.")

        @Argument(help: "The turn's id.")
        var id: String

        @OptionGroup var database: TokenCommand.DatabaseOption

        func run() async throws {
            guard let turnID = TurnID(id) else { throw ValidationError("'\(id)' is not a turn id") }
            guard let detail = try await database.withStore(readOnly: true, { store in try await AuditLog(store: store).detail(turnID) }) else {
                throw CommandFailure("no turn \(id) in this database")
            }
            FileHandle.standardOutput.write(Data((detail + "\n").utf8))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every turn started since a time, in the order written, as JSON Lines on standard output.")

        @Option(help: "A day (2026-12-01, UTC), an RFC 3339 time, or a duration back from now (24h, 7d). Default: everything.")
        var since: String?

        @Flag(help: "Include each turn's event log (events: [{seq, event, data}]).")
        var events = false

        @OptionGroup var database: TokenCommand.DatabaseOption

        func run() async throws {
            var start = Date(timeIntervalSince1970: 0)
            if let since {
                guard let date = AuditLog.since(since) else {
                    throw ValidationError("since must be a day (2026-12-01), an RFC 3339 time or a duration like 24h or 7d, got '\(since)'")
                }
                start = date
            }
            let (events, from) = (events, start)
            let count = try await database.withStore(readOnly: true) { store in
                try await AuditLog(store: store).export(since: from, events: events) { line in
                    FileHandle.standardOutput.write(Data((line + "\n").utf8))
                }
            }
            FileHandle.standardError.write(Data("\(count) turn\(count == 1 ? "" : "s") exported\n".utf8))
        }
    }
}
