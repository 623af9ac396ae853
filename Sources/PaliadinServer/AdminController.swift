import Foundation
import Hummingbird
import PaliadinCore
import PaliadinStore

/// The monitoring API: aggregates, the most recent turns, and one turn in full.
///
/// Every owner is an administrator: these routes show everyone's turns.
struct AdminController {
    typealias Context = PaliadinRequestContext
    let store: any TurnStore
    /// Events read from the store per query while gathering a turn's log.
    var eventPageSize = 500
    /// The most events one detail answer carries; a longer log is cut (and says so).
    var maxEvents = 20_000

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("stats", use: stats)
        group.get("turns", use: turns)
        group.get("turns/{id}", use: turn)
    }

    /// `GET /api/admin/paliadin/stats`
    @Sendable func stats(request: Request, context: Context) async throws -> TurnStatsView {
        TurnStatsView(stats: try await store.stats(now: Date()))
    }

    /// `GET /api/admin/paliadin/turns`: the 50 most recent turns, newest first.
    @Sendable func turns(request: Request, context: Context) async throws -> [TurnView] {
        try await store.recentTurns(limit: 50).map { TurnView($0) }
    }

    /// `GET /api/admin/paliadin/turns/{id}`: the turn's full row and its whole event log, in order.
    /// 400 for a malformed id, 404 for an unknown one.
    @Sendable func turn(request: Request, context: Context) async throws -> TurnDetailView {
        guard let text = context.parameters.get("id"), let id = TurnID(text) else { throw APIError.invalidTurnID }
        guard let record = try await store.turn(id) else { throw APIError.notFound }
        var events: [TurnEvent] = []
        var complete = false
        while !complete, events.count < maxEvents {
            let wanted = min(eventPageSize, maxEvents - events.count)
            let page = try await store.events(of: id, after: events.last?.seq ?? 0, limit: wanted)
            events += page
            complete = page.count < wanted
        }
        var truncated = false
        if !complete { truncated = !(try await store.events(of: id, after: events.last?.seq ?? 0, limit: 1)).isEmpty }
        return TurnDetailView(record: record, events: events, eventsTruncated: truncated)
    }
}
