import Foundation
import PaliadinCore

/// Durable storage of turns, their event logs, conversation resets and API tokens.
///
/// One implementation per database; all pass the same store test suite.
public protocol TurnStore: Sendable {
    /// Creates or upgrades the schema. Safe to call on every start.
    func migrate() async throws

    /// Writes a new turn row (status `running`).
    func insertTurn(_ record: TurnRecord) async throws

    /// Writes a new turn row and returns, from the same transaction, what the turn needs of
    /// its session's past since the user's last reset: the exchanges before it (at most
    /// `historyLimit`; none when it is 0) and, when `resumeConversation` is set, the latest
    /// conversation id the same backend gave in this session. One trip to the database.
    func openTurn(_ record: TurnRecord, historyLimit: Int, resumeConversation: Bool) async throws -> SessionPast

    /// Appends events to their turns' logs, in one transaction.
    func appendEvents(_ events: [TurnEvent]) async throws

    /// Closes a turn: writes its outcome and its last event together, in one transaction.
    /// Does nothing (returns false) when the turn is already closed.
    @discardableResult
    func finishTurn(_ id: TurnID, outcome: TurnOutcome, lastEvent: TurnEvent) async throws -> Bool

    /// The turn's row, or `nil`.
    func turn(_ id: TurnID) async throws -> TurnRecord?

    /// A trivial read: returns when the database answers, throws when it does not.
    func ping() async throws

    /// Events of a turn with a sequence number above `seq`, ascending, at most `limit`, and no
    /// more than fit in `maxBytes` of data (but always the first one): a reader of a large
    /// answer holds a bounded page, whatever the size of its events.
    func events(of id: TurnID, after seq: Int, limit: Int, maxBytes: Int) async throws -> [TurnEvent]

    /// The event with the highest sequence number of a turn, if any.
    func lastEvent(of id: TurnID) async throws -> TurnEvent?

    /// The latest `limit` turns of one user's session, oldest first.
    func history(userID: String, sessionID: String, limit: Int) async throws -> [TurnRecord]

    /// The session's completed exchanges started after the user's last conversation reset, oldest first.
    func pastExchanges(userID: String, sessionID: String, before: Date, limit: Int) async throws -> [PastExchange]

    /// The `limit` most recent turns of everyone, newest first.
    func recentTurns(limit: Int) async throws -> [TurnRecord]

    /// Every turn started at or after `since`, oldest first, handed to `body` a page of at most
    /// `pageSize` at a time: an export of any size holds one page. No turn is skipped or
    /// repeated between pages, even while turns are being written; a turn written during the
    /// export may or may not be in it.
    func exportTurns(startedSince since: Date, pageSize: Int, _ body: ([TurnRecord]) async throws -> Void) async throws

    /// Aggregates for the dashboard.
    func stats(now: Date) async throws -> TurnStats

    /// Adds to the turns' counts of readers that opened their stream (and of those that resumed).
    func noteReaders(_ counts: [TurnID: ReaderCount]) async throws

    /// Closes every turn still `running` as `interrupted`, keeping the text its log holds,
    /// and appends an `error` event to each log. Returns the closed turns.
    func interruptRunningTurns(at date: Date, message: String) async throws -> [TurnID]

    /// Remembers that the user started a fresh conversation at `date`.
    func resetConversation(userID: String, at date: Date) async throws

    /// Stores a hashed API token for a user.
    func insertToken(_ token: StoredToken) async throws

    /// The user of an unrevoked token with this hash, or `nil`.
    func tokenUser(hash: String) async throws -> String?

    /// Revokes a token by its id; false when there is none.
    func revokeToken(id: String, at date: Date) async throws -> Bool

    /// All tokens (without their secrets), newest first.
    func tokens() async throws -> [StoredToken]
}

/// An API token as stored: only the SHA-256 of its secret.
public struct StoredToken: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var hash: String
    public var label: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, userID: String, hash: String, label: String, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.userID = userID
        self.hash = hash
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// How many readers opened a turn's stream, and how many of them resumed after an event id.
public struct ReaderCount: Sendable, Equatable {
    public var connects: Int
    public var resumes: Int

    public init(connects: Int = 0, resumes: Int = 0) {
        self.connects = connects
        self.resumes = resumes
    }
}

extension TurnStore {
    /// Events of a turn with a sequence number above `seq`, ascending, at most `limit`.
    public func events(of id: TurnID, after seq: Int, limit: Int) async throws -> [TurnEvent] {
        try await events(of: id, after: seq, limit: limit, maxBytes: .max)
    }
}
