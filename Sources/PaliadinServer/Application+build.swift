import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging
import NIOCore
import PaliadinBackends
import PaliadinCore
import PaliadinEngine
import PaliadinStore
import ServiceLifecycle

/// Builds the Paliadin application: store, backend, turn supervisor and routes.
public func buildApplication(
    _ configuration: AppConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger
) async throws -> some ApplicationProtocol {
    let database = try OpenedDatabase(configuration, logger: logger)
    let store = database.store
    // Before the HTTP client: the client must be shut down once made, so whatever may fail
    // comes first, or is in the block below that shuts it down on failure.
    let (tracing, traceExporter) = try TracingSetup.make(configuration, logger: logger)
    let httpClient = OpenAICompatibleBackend.makeHTTPClient(
        maxConnections: configuration.backendConnections, idleTimeout: configuration.backendIdleTimeout)
    do {
        let backends = try BackendFactory.registry(for: configuration, environment: environment, httpClient: httpClient)
        let metrics = ServerMetrics()
        let supervisor = TurnSupervisor(
            store: store, backends: backends,
            conversation: ConversationBuilder(systemPrompt: configuration.systemPrompt, historyBudget: configuration.historyBudget),
            configuration: configuration.engine, cluster: database.cluster(configuration), metrics: metrics.turns, tracing: tracing,
            logger: logger)
        var sessions: SessionTokenVerifier?
        if let key = configuration.sessionKey {
            sessions = try await SessionTokenVerifier(key: key, issuer: configuration.sessionIssuer, audience: configuration.sessionAudience)
        }
        let streams = StalledStreamMonitor(
            timeout: configuration.stalledReaderTimeout, isShuttingDown: { !supervisor.isAccepting }, logger: logger)
        let router = try buildRouter(
            configuration, store: store, supervisor: supervisor, sessions: sessions, streams: streams, metrics: metrics)
        var extraServices: [any Service] = []
        if let address = configuration.metricsListen {
            // A listener of its own, serving nothing but the metrics, for a private interface.
            let metricsRouter = Router()
            MetricsController(metrics: metrics, token: nil, open: true).addRoutes(to: metricsRouter)
            extraServices.append(
                Application(
                    router: metricsRouter, configuration: .init(address: .hostname(address.host, port: address.port), serverName: "paliadin"),
                    logger: logger))
        }
        let idle = configuration.idleConnectionTimeout.map { TimeAmount($0) }
        var app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: idle)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "paliadin",
                // Room for bursts of new connections (thousands of streams opening at once); the kernel caps it at somaxconn.
                backlog: 4096),
            // Shut down in reverse order: the turns first, then the span exporter (it sends the
            // last turns' spans), the database last.
            services: database.services + [traceExporter].compactMap { $0 } + [
                HTTPClientService(client: httpClient), supervisor, IdleMemoryTrimmer(hub: supervisor.hub, logger: logger), streams,
            ] + extraServices,
            logger: logger)
        app.beforeServerStarts {
            _ = database
            try await store.migrate()
            try await supervisor.closeAbandonedTurns()
        }
        return app
    } catch {
        try? await httpClient.shutdown()
        throw error
    }
}

/// The routes of DESIGN.md §2. With `enabled` false none of them exist.
func buildRouter(
    _ configuration: AppConfiguration, store: any TurnStore, supervisor: TurnSupervisor, sessions: SessionTokenVerifier?,
    streams: StalledStreamMonitor, metrics: ServerMetrics = ServerMetrics()
) throws -> Router<PaliadinRequestContext> {
    let router = Router(context: PaliadinRequestContext.self)
    // The probes exist even with Paliadin's routes turned off: the process still runs.
    HealthController(
        checkDatabase: { try await store.ping() }, isAccepting: { supervisor.isAccepting }, backends: supervisor.backends.names,
        logger: Logger(label: "paliadin.health")
    ).addRoutes(to: router)
    MetricsController(metrics: metrics, token: configuration.metricsToken, open: false).addRoutes(to: router)
    guard configuration.enabled else { return router }
    if !configuration.corsOrigins.isEmpty { router.add(middleware: CORSPolicy(origins: Set(configuration.corsOrigins))) }
    let pages = PageController(assets: try AssetLibrary(), embedOrigins: configuration.embedOrigins)
    pages.addAssetRoutes(to: router)
    let authenticator = PaliadinAuthenticator(
        store: store, devUser: configuration.devUser, trustedProxies: configuration.trustedProxies,
        proxyUserHeader: HTTPField.Name(configuration.proxyUserHeader) ?? HTTPField.Name("X-Forwarded-User")!, sessions: sessions)
    let gated = router.group()
        .add(middleware: authenticator)
        .add(middleware: CrossSiteGuard(corsOrigins: Set(configuration.corsOrigins)))
        .add(middleware: OwnerGate(owners: configuration.effectiveOwners))
    pages.addPageRoutes(to: gated)
    if let sessions {
        SessionController(sessions: sessions, owners: configuration.effectiveOwners).addRoutes(to: router, gated: gated)
    }
    TurnController(
        supervisor: supervisor, store: store, configuration: configuration, streams: streams, metrics: metrics,
        recovery: RecoveryRule(giveUpAfter: configuration.recoveryGiveUp)
    ).addRoutes(to: gated.group("api/paliadin"))
    AdminController(store: store).addRoutes(to: gated.group("api/admin/paliadin"))
    return router
}
