import Foundation
import Hummingbird
import PaliadinStore

/// The monitoring API: aggregates and the most recent turns.
struct AdminController {
    typealias Context = PaliadinRequestContext
    let store: any TurnStore

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("stats", use: stats)
        group.get("turns", use: turns)
    }

    /// `GET /api/admin/paliadin/stats`
    @Sendable func stats(request: Request, context: Context) async throws -> TurnStatsView {
        TurnStatsView(stats: try await store.stats(now: Date()))
    }

    /// `GET /api/admin/paliadin/turns`: the 50 most recent turns, newest first.
    @Sendable func turns(request: Request, context: Context) async throws -> [TurnView] {
        try await store.recentTurns(limit: 50).map { TurnView($0) }
    }
}
