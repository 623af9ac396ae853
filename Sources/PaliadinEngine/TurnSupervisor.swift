import Foundation
import Logging
import PaliadinCore
import PaliadinStore
import ServiceLifecycle
import Synchronization
import Tracing

/// Owns every turn running in this process.
///
/// Turns run detached from the request that started them, as children of this service's
/// `run()`. On graceful shutdown it takes no new turns, gives running ones
/// `shutdownGrace`, then stops the rest as `interrupted`.
public final class TurnSupervisor: Service {
    public let store: any TurnStore
    /// The backends turns run against.
    public let backends: BackendRegistry
    public let configuration: EngineConfiguration
    public let conversation: ConversationBuilder
    /// The turns running here, for readers and cancel.
    public let hub = LiveTurnHub()
    /// Wakes readers of turns running in other instances.
    public let signals = RemoteTurnSignals()
    /// The other instances sharing the database, if any.
    public let cluster: ClusterMembership?
    private let writer: EventLogWriter
    /// Counts and times turns.
    public let metrics: TurnMetrics
    /// Spans of turns (off unless a tracer is given).
    let tracing: TurnTracing
    let clock: EngineClock
    let logger: Logger
    private let jobs: AsyncStream<TurnJob>
    private let jobsInput: AsyncStream<TurnJob>.Continuation
    private let accepting = Atomic<Bool>(true)
    private let rateLimiter: TurnRateLimiter?

    struct TurnJob: Sendable {
        let record: TurnRecord
        let turn: NewTurn
        let backend: any ChatBackend
        /// The session's earlier exchanges (for a backend that does not keep the conversation)
        /// or its conversation id (for one that does).
        let past: SessionPast
        let entry: LiveTurnHub.Entry
    }

    public convenience init(
        store: any TurnStore, backend: any ChatBackend, conversation: ConversationBuilder,
        configuration: EngineConfiguration = EngineConfiguration(), clock: EngineClock = .continuous, metrics: TurnMetrics = TurnMetrics(),
        tracing: TurnTracing = .off, logger: Logger
    ) {
        self.init(
            store: store, backends: BackendRegistry(single: backend), conversation: conversation, configuration: configuration,
            clock: clock, metrics: metrics, tracing: tracing, logger: logger)
    }

    public init(
        store: any TurnStore, backends: BackendRegistry, conversation: ConversationBuilder,
        configuration: EngineConfiguration = EngineConfiguration(), cluster: ClusterMembership? = nil, clock: EngineClock = .continuous,
        metrics: TurnMetrics = TurnMetrics(), tracing: TurnTracing = .off, logger: Logger
    ) {
        self.metrics = metrics
        self.tracing = tracing
        self.store = store
        self.cluster = cluster
        self.backends = backends
        self.conversation = conversation
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.writer = EventLogWriter(store: store, logger: logger, metrics: metrics.factory)
        self.rateLimiter = configuration.userLimits.turnsPerMinute.map { TurnRateLimiter(perMinute: $0, clock: clock) }
        (self.jobs, self.jobsInput) = AsyncStream.makeStream(of: TurnJob.self)
    }

    /// Closes turns a previous process left running as `interrupted`, keeping their partial
    /// text. With a shared database, only those of instances that stopped answering (this
    /// instance joins the group first, so the others' running turns are left alone).
    public func closeAbandonedTurns() async throws {
        if let cluster {
            try await joinCluster(cluster)
            return
        }
        let closed = try await store.interruptRunningTurns(at: Date(), message: "Paliadin stopped before the turn ended")
        if !closed.isEmpty {
            logger.warning("closed turns left running by an earlier process", metadata: ["count": "\(closed.count)"])
        }
    }

    /// Starts a turn; returns its row once it is written. Throws `EngineError.shuttingDown`
    /// during shutdown, and the `tooMany…` errors when the user is over a limit (nothing is
    /// written then).
    public func startTurn(_ new: NewTurn) async throws -> TurnRecord {
        guard accepting.load(ordering: .relaxed) else { throw EngineError.shuttingDown }
        guard let backend = backends.backend(named: new.backendName) else { throw EngineError.unknownBackend(new.backendName ?? "") }
        let limits = configuration.userLimits
        guard hub.reserve(userID: new.userID, limit: limits.concurrentTurns) else {
            throw EngineError.tooManyRunningTurns(limit: limits.concurrentTurns ?? 0)
        }
        // Checked after the place is held, so a refusal for running turns costs no start.
        if let rateLimiter, let wait = rateLimiter.take(new.userID) {
            hub.release(userID: new.userID)
            throw EngineError.tooManyTurnsPerMinute(limit: limits.turnsPerMinute ?? 0, retryAfter: wait)
        }
        var record = TurnRecord(
            id: TurnID(), userID: new.userID, sessionID: new.sessionID, pageOrigin: new.pageOrigin,
            contextJSON: new.context.map(PayloadCoding.encode), userMessage: new.userMessage, startedAt: Date(),
            backend: backend.name, model: backend.model)
        record.instanceID = cluster?.instance.id
        // The row and the conversation so far in one trip to the database: the turn can then
        // call the backend at once, without reading the store again.
        let past: SessionPast
        let span = tracing.startTurn(record)
        let opening = tracing.child(TurnTracing.Names.openTurn, of: span)
        do {
            past = try await store.openTurn(
                record, historyLimit: backend.keepsConversation ? 0 : configuration.historyTurns,
                resumeConversation: backend.keepsConversation)
            tracing.endStoreSpan(opening, operation: "open_turn")
        } catch {
            tracing.endStoreSpan(opening, operation: "open_turn", error: error)
            tracing.endUnopened(span, error: error)
            hub.release(userID: new.userID)
            throw error
        }
        let entry = hub.register(record.id, userID: record.userID, writer: writer, reserved: true, span: span)
        metrics.turnStarted(backend: record.backend, model: record.model)
        let job = TurnJob(record: record, turn: new, backend: backend, past: past, entry: entry)
        if case .terminated = jobsInput.yield(job) {
            // Shutdown began between the check above and now: close the row without running
            // the turn, and answer as if it had begun before.
            hub.remove(record.id)
            await closeWithoutRunning(record.id, entry: entry, message: "Paliadin is shutting down")
            throw EngineError.shuttingDown
        }
        return record
    }

    /// Asks a turn running here to stop. False when it does not run here (anymore).
    @discardableResult
    public func cancel(_ turnID: TurnID) -> Bool {
        guard let entry = hub.entry(for: turnID) else { return false }
        entry.control.stop(.cancelled)
        return true
    }

    /// Asks a running turn to stop, wherever it runs: here at once; in another instance
    /// sharing the database through it. False when the turn runs nowhere this instance can reach.
    public func requestStop(_ turnID: TurnID) async throws -> Bool {
        if cancel(turnID) { return true }
        guard let cluster else { return false }
        return try await cluster.store.requestStop(of: turnID)
    }

    /// Stops taking new turns; running ones get the grace period. Called on graceful shutdown
    /// (and by stream handlers when the server begins to shut down).
    public func beginShutdown() {
        guard accepting.exchange(false, ordering: .relaxed) else { return }
        logger.info("turn supervisor shutting down", metadata: ["running": "\(hub.count)"])
        jobsInput.finish()
    }

    /// True until shutdown begins.
    public var isAccepting: Bool { accepting.load(ordering: .relaxed) }

    /// Counts a reader that opened a turn's stream (written with the next batch of events).
    public func noteReader(of turnID: TurnID, resumed: Bool) {
        // A turn running here will write its last event (at the latest), and the count with it.
        writer.noteReader(of: turnID, resumed: resumed, writeNow: hub.entry(for: turnID) == nil)
    }

    /// A reader of a turn's events after `seq`.
    ///
    /// With a shared database, a reader of a turn running elsewhere is woken by the database's
    /// notifications (and all of them after a reconnection), so its poll is only a slow
    /// safety net: thousands of such readers must not poll the database four times a second.
    public func reader(for turnID: TurnID, after seq: Int) -> TurnReader {
        let poll = cluster == nil ? configuration.storePollInterval : max(configuration.storePollInterval, Self.notifiedPollInterval)
        return TurnReader(
            turnID: turnID, after: seq, hub: hub, signals: signals, store: store, pollInterval: poll,
            pingInterval: configuration.pingInterval, clock: clock)
    }

    /// The safety-net poll of readers woken by a shared database's notifications.
    static let notifiedPollInterval: Duration = .seconds(2)

    /// Runs the turns handed over by `startTurn` until graceful shutdown, then drains them.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { keepAlive in
            keepAlive.addTask { await self.tickReaders() }
            if let cluster {
                keepAlive.addTask { await self.keepHeartbeat(cluster) }
                keepAlive.addTask { await self.followNotifications(cluster) }
            }
            await withDiscardingTaskGroup { turns in
                await withGracefulShutdownHandler {
                    for await job in jobs {
                        turns.addTask {
                            let saved = await self.execute(job, clock: self.clock)
                            self.hub.remove(job.record.id, stranded: !saved)
                            // Reader counts of the turn were held back for its events: write them now.
                            self.writer.writePending()
                        }
                    }
                } onGracefulShutdown: {
                    self.beginShutdown()
                }
                await self.drain()
            }
            keepAlive.cancelAll()
        }
        // After a hard cancellation: take no more turns, and close any handed over but never started.
        beginShutdown()
        await closeLeftovers()
        await leaveCluster()
        // Shutdown may have begun from a stream handler, before the service group asked this
        // service to stop: returning now would count as a crash and cancel the server (and
        // the final frames of its open streams). Wait for the group's own signal.
        try? await gracefulShutdown()
    }

    /// Waits for running turns up to the grace period, then stops the rest as `interrupted`.
    private func drain() async {
        guard hub.count > 0 else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.hub.waitUntilEmpty() }
            group.addTask { try? await self.clock.sleep(for: self.configuration.shutdownGrace) }
            await group.next()
            // Either every turn ended, or the grace period is over: stop what still runs;
            // the turns then close themselves and the wait above returns.
            let left = hub.controls
            if !left.isEmpty {
                logger.warning("interrupting turns still running after the grace period", metadata: ["count": "\(left.count)"])
            }
            for control in left { control.stop(.interrupted) }
            group.cancelAll()
        }
    }

    /// Closes turns whose runners never ran (their jobs were still queued when `run()` was
    /// cancelled): the row as `interrupted`, and the live log, so its readers finish.
    private func closeLeftovers() async {
        let left = hub.removeAll()
        guard !left.isEmpty else { return }
        logger.warning("closing turns that never started", metadata: ["count": "\(left.count)"])
        for (turnID, entry) in left {
            await closeWithoutRunning(turnID, entry: entry, message: "Paliadin stopped before the turn ran")
        }
    }

    /// Closes a turn whose runner never ran: the row as `interrupted` (a failed write is
    /// repaired at the next start), and the live log, so its readers finish.
    private func closeWithoutRunning(_ turnID: TurnID, entry: LiveTurnHub.Entry, message: String) async {
        let error = ErrorPayload(code: TurnErrorCode.interrupted, message: message, retryable: true)
        let outcome = TurnOutcome(
            status: .interrupted, response: entry.log.partialText, errorCode: error.code, errorMessage: error.message,
            finishedAt: Date(), durationMS: 0)
        tracing.endTurn(entry.span, outcome: outcome)
        guard let last = entry.log.seal(.error, data: PayloadCoding.encode(error)) else { return }
        _ = try? await store.finishTurn(turnID, outcome: outcome, lastEvent: last)
        entry.log.publish(last: last)
    }

    /// Wakes idle readers every ping interval so they send keep-alives.
    private func tickReaders() async {
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: configuration.pingInterval)
            } catch {
                return
            }
            hub.tickAll()
        }
    }

    private func execute(_ job: TurnJob, clock: EngineClock) async -> Bool {
        await TurnRunner(
            record: job.record, turn: job.turn, backend: job.backend, conversation: conversation,
            past: job.past, entry: job.entry, writer: writer, store: store,
            timing: configuration.timing, clock: clock, metrics: metrics, tracing: tracing, span: job.entry.span,
            logsMessageText: configuration.logsMessageText, logger: logger
        ).run()
    }
}
