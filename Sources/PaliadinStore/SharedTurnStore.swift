import PaliadinCore

/// A store that several Paliadin instances share (PostgreSQL): besides the rows and event
/// logs, it keeps which instances are alive, carries stop requests between them, and tells
/// every instance when a turn's log grows.
///
/// Each instance writes its own turns' events; any instance can read, resume, replay or stop
/// any turn. An instance that stops sending heartbeats is presumed dead, and any survivor
/// closes its running turns as `interrupted`.
public protocol SharedTurnStore: TurnStore {
    /// Records that the instance is alive now (inserting its row when it has none, for
    /// instance after a survivor removed it). Times are the database's own clock, so the
    /// instances' clocks need not agree.
    func heartbeat(_ instance: InstanceInfo) async throws

    /// Removes the instance's row: it stopped cleanly and runs no turns.
    func removeInstance(id: String) async throws

    /// Closes, as `interrupted`, every running turn whose instance has sent no heartbeat for
    /// `staleAfter` or has no row at all: keeps the text its log holds, appends an `error`
    /// event (and notifies its readers), then removes the stale instance rows. Safe to run
    /// from several instances at once: each turn is closed once. Returns the closed turns.
    func interruptTurnsOfDeadInstances(staleAfter: Duration, message: String) async throws -> [TurnID]

    /// Asks whichever instance runs the turn to stop it as `cancelled`: marks the row (so the
    /// request survives a lost notification) and notifies. False when the turn is not running.
    func requestStop(of id: TurnID) async throws -> Bool

    /// Of the given turns (those running in the calling instance), the ones it should stop: a
    /// stop was requested, or the row is already closed (a survivor took the instance for dead).
    func turnsToStop(among ids: [TurnID]) async throws -> [TurnID]

    /// Listens for notifications from every instance and hands each to `handler`, until the
    /// task is cancelled. A lost connection is re-established (with back-off); after each
    /// (re)connection `handler` gets `.listening`, since notifications may have been missed.
    func listen(_ handler: @escaping @Sendable (StoreNotification) async -> Void) async throws
}

/// One running Paliadin instance, as its heartbeat row records it.
public struct InstanceInfo: Sendable, Equatable {
    /// Unique per process (a new one at every start).
    public var id: String
    /// Where it serves, for the operator (e.g. `10.0.0.5:8080`).
    public var address: String

    public init(id: String, address: String) {
        self.id = id
        self.address = address
    }
}

/// What another instance (or this one) told every instance through the shared store.
public enum StoreNotification: Sendable, Equatable {
    /// The turn's log now holds events up to `seq` (the last one may be its end).
    case events(TurnID, upTo: Int)
    /// Someone asked for the turn to stop.
    case stopRequested(TurnID)
    /// Listening (again): notifications may have been missed before this point.
    case listening
}
