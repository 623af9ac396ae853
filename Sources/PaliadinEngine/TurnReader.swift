import PaliadinCore
import PaliadinStore

/// Reads one turn's events for one reader, from a given point, without gaps or repeats.
///
/// While the turn runs in this process, events come from its live log the moment they are
/// written; otherwise (the turn ended, or runs where this process cannot see it) from the
/// store. Either way the reader only keeps its cursor and reads in pages bounded in count
/// and in bytes.
public struct TurnReader: Sendable {
    /// What the reader should send next.
    public enum Item: Sendable {
        /// Events in order, following on from the last ones.
        case events([TurnEvent])
        /// Nothing happened for a while: send a keep-alive.
        case ping
    }

    public let turnID: TurnID
    /// The sequence number of the last event handed out.
    public private(set) var cursor: Int
    private let hub: LiveTurnHub
    private let signals: RemoteTurnSignals
    private let store: any TurnStore
    private let pollInterval: Duration
    private let pingInterval: Duration
    private let clock: EngineClock
    private var finished = false
    private static let pageSize = 256
    /// The most event data handed out at once (one event larger than this still goes out
    /// alone): what a reader that stopped reading holds is bounded, whatever the answer's size.
    public static let pageBytes = 32 * 1024

    init(
        turnID: TurnID, after seq: Int, hub: LiveTurnHub, signals: RemoteTurnSignals, store: any TurnStore, pollInterval: Duration,
        pingInterval: Duration, clock: EngineClock
    ) {
        self.turnID = turnID
        self.cursor = max(seq, 0)
        self.hub = hub
        self.signals = signals
        self.store = store
        self.pollInterval = pollInterval
        self.pingInterval = pingInterval
        self.clock = clock
    }

    /// The next item, or `nil` once the turn's last event has been handed out (or lies
    /// before the cursor).
    public mutating func next() async throws -> Item? {
        var idle = Duration.zero
        while !finished {
            try Task.checkCancellation()
            if let log = hub.entry(for: turnID)?.log {
                let (events, complete) = log.events(after: cursor, limit: Self.pageSize, maxBytes: Self.pageBytes)
                if let item = take(events) { return item }
                if complete {
                    finished = true
                    return nil
                }
                if await log.wait(after: cursor) == .tick { return .ping }
                continue
            }
            // Watch before reading, so a signal that comes while the store is read still wakes the wait below.
            let ticket = signals.watch(turnID)
            defer { signals.release(turnID) }
            let events = try await store.events(of: turnID, after: cursor, limit: Self.pageSize, maxBytes: Self.pageBytes)
            if let item = take(events) { return item }
            // Nothing new in the store and the turn does not run here: it has ended (and
            // its last event is behind the cursor), or it runs in another instance, whose
            // writes the shared store signals (the poll interval is the fallback).
            guard let row = try await store.turn(turnID), !row.status.isFinal else {
                // The turn closed after the events were read: its last event was written with
                // the row, so one more read finds whatever came in between.
                if let item = take(try await store.events(of: turnID, after: cursor, limit: Self.pageSize, maxBytes: Self.pageBytes)) { return item }
                finished = true
                return nil
            }
            if hub.entry(for: turnID) != nil { continue }
            let waitStart = clock.now
            await signals.wait(ticket, timeout: min(pollInterval, pingInterval - idle), clock: clock)
            try Task.checkCancellation()
            idle += clock.now - waitStart
            if idle >= pingInterval {
                idle = .zero
                return .ping
            }
        }
        return nil
    }

    /// The events already in the live log after the cursor, without waiting (none when the
    /// turn does not run here): lets a new stream send them with its first write.
    public mutating func takeReady() -> [TurnEvent] {
        guard !finished, let log = hub.entry(for: turnID)?.log else { return [] }
        let events = log.events(after: cursor, limit: Self.pageSize, maxBytes: Self.pageBytes).events
        _ = take(events)
        return events
    }

    private mutating func take(_ events: [TurnEvent]) -> Item? {
        guard let last = events.last else { return nil }
        cursor = last.seq
        if last.kind.isTerminal { finished = true }
        return .events(events)
    }
}
