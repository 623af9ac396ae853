import PaliadinCore

/// A backend under the name its configuration gives it (the audit row and the stats show it).
struct NamedBackend: ChatBackend {
    let name: String
    let inner: any ChatBackend

    var model: String { inner.model }
    var mode: TurnWatch.Mode { inner.mode }
    var keepsConversation: Bool { inner.keepsConversation }

    func runTurn(_ request: BackendTurnRequest, events: @Sendable (BackendEvent) async -> Void) async throws {
        try await inner.runTurn(request, events: events)
    }
}
