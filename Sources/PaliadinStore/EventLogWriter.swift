import Logging
import Metrics
import PaliadinCore
import Synchronization

/// Told when a turn's events are in the store, or that they will not be.
public protocol EventWriteObserver: AnyObject, Sendable {
    /// Every event of the turn up to `seq` is written.
    func eventsWritten(through seq: Int)
    /// A write of the turn's events failed for good: none of its later events is written either.
    func eventsNotWritten(_ error: any Error)
}

/// Writes turn events (and reader counts) to the store in small batches (group commit).
///
/// `append` returns at once, without a suspension; while one batch is being written, new
/// events gather for the next, so a busy token stream costs one transaction per batch
/// instead of one per token. `flush` waits until everything appended before it is durable,
/// and an observer given with an event learns when it is.
///
/// A turn whose events could not be written (after retries) gets none of its later events
/// written either, so its stored log never has a gap: it ends where the last good write did.
public final class EventLogWriter: Sendable {
    private struct PendingEvent {
        let event: TurnEvent
        let observer: (any EventWriteObserver)?
    }

    private struct State {
        var pending: [PendingEvent] = []
        var pendingReaders: [TurnID: ReaderCount] = [:]
        /// `noteReader` calls in `pendingReaders`. They count as appended work, so `flush` waits for them too.
        var pendingReaderNotes = 0
        /// Work appended and done, counted apart for events and reader notes: each kind is done
        /// in the order it was appended (events in batches, notes all at once), so a count says
        /// exactly which items are done. One count for both would not: notes appended after a
        /// `flush` can be written before events appended before it.
        var progress = Progress()
        var draining = false
        var batchesWritten = 0
        /// Turns whose write failed, with the error; their later events are dropped.
        var failures: [TurnID: any Error] = [:]
        /// Someone waits to read what is pending: write without letting a batch gather.
        var demanded = false
        /// Flushes waiting: how many events and notes must be done first.
        var waiters: [(events: Int, notes: Int, continuation: CheckedContinuation<Void, Never>)] = []
        /// The drain, while it lets a small batch gather.
        var gathering: CheckedContinuation<Void, Never>?

        /// Starts a drain unless one runs; true when the caller must start it.
        mutating func claimDrain() -> Bool {
            guard !draining else { return false }
            draining = true
            return true
        }

        /// Records events and notes done; returns the flushes that are now satisfied.
        mutating func complete(events: Int = 0, notes: Int = 0) -> [CheckedContinuation<Void, Never>] {
            progress.eventsDone += events
            progress.notesDone += notes
            let done = progress
            let ready = waiters.filter { done.reached(events: $0.events, notes: $0.notes) }.map(\.continuation)
            waiters.removeAll { done.reached(events: $0.events, notes: $0.notes) }
            return ready
        }
    }

    /// How much work was appended and how much is done.
    private struct Progress {
        var eventsAppended = 0
        var eventsDone = 0
        var notesAppended = 0
        var notesDone = 0

        var isIdle: Bool { reached(events: eventsAppended, notes: notesAppended) }

        func reached(events: Int, notes: Int) -> Bool { eventsDone >= events && notesDone >= notes }
    }

    private let store: any TurnStore
    private let logger: Logger
    private let maxBatch: Int
    private let gatherWindow: Duration
    private let clock: any Clock<Duration> & Sendable
    private let state = Mutex(State())
    /// Events per transaction.
    private let batchSize: Recorder
    /// How long each transaction of events took.
    private let writeLatency: Metrics.Timer

    /// - Parameters:
    ///   - maxBatch: the most events in one transaction.
    ///   - gatherWindow: how long a small batch may wait for more events before it is written.
    ///     Streams that trickle (a token every few milliseconds each) would otherwise cost a
    ///     transaction for every one or two events. A `flush` or a full batch ends the wait at
    ///     once, so nobody who waits for the log waits longer. Zero writes at once.
    ///   - clock: the clock of the gather window.
    ///   - metrics: where batch sizes and write times are reported (nowhere by default).
    public init(
        store: any TurnStore, logger: Logger, maxBatch: Int = 512, gatherWindow: Duration = .milliseconds(5),
        clock: any Clock<Duration> & Sendable = ContinuousClock(), metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.batchSize = Recorder(label: Self.batchSizeMetric, factory: metrics)
        self.writeLatency = Metrics.Timer(label: Self.writeLatencyMetric, factory: metrics)
        self.store = store
        self.logger = logger
        self.maxBatch = maxBatch
        self.gatherWindow = gatherWindow
        self.clock = clock
    }

    /// The metric of events per transaction (a histogram).
    public static let batchSizeMetric = "paliadin_event_log_batch_events"
    /// The metric of the time each transaction of events takes (a histogram, seconds).
    public static let writeLatencyMetric = "paliadin_event_log_write_seconds"

    /// How many transactions of events the writer has made (for tests and metrics).
    public var batchesWritten: Int { state.withLock { $0.batchesWritten } }

    /// Queues an event for the next batch; `observer` hears when it is written (or not).
    public func append(_ event: TurnEvent, observer: (any EventWriteObserver)? = nil) {
        let (start, full) = state.withLock { state in
            state.pending.append(PendingEvent(event: event, observer: observer))
            state.progress.eventsAppended += 1
            return (state.claimDrain(), state.pending.count >= maxBatch)
        }
        if start { startDraining() }
        if full { endGathering() }
    }

    /// Counts a reader that opened a turn's stream, without making the reader wait for a write.
    ///
    /// - Parameter writeNow: false when more events of the turn are sure to follow (it runs
    ///   here): the count then goes with their batch instead of costing a write of its own
    ///   just as the reader starts.
    public func noteReader(of turnID: TurnID, resumed: Bool, writeNow: Bool = true) {
        let start = state.withLock { state in
            state.pendingReaders[turnID, default: ReaderCount()].connects += 1
            if resumed { state.pendingReaders[turnID, default: ReaderCount()].resumes += 1 }
            state.pendingReaderNotes += 1
            state.progress.notesAppended += 1
            return writeNow && state.claimDrain()
        }
        if start { startDraining() }
    }

    /// Writes what is pending without letting the batch gather: a reader waits for it.
    public func writeSoon() {
        state.withLock { $0.demanded = true }
        endGathering()
    }

    /// Starts writing whatever waits (reader counts held back by `noteReader(writeNow: false)`).
    public func writePending() {
        let start = state.withLock { state in
            (!state.pending.isEmpty || !state.pendingReaders.isEmpty) && state.claimDrain()
        }
        if start { startDraining() }
    }

    /// Waits until every event (and reader count) appended so far is written. Throws when a
    /// write of one of `turnID`'s events failed (their events are then not all in the log);
    /// the turn is then forgotten, so call it once the turn emits no more events.
    public func flush(turn turnID: TurnID) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (done, start) = state.withLock { state -> (Bool, Bool) in
                guard !state.progress.isIdle else { return (true, false) }
                state.waiters.append((state.progress.eventsAppended, state.progress.notesAppended, continuation))
                return (false, state.claimDrain())
            }
            if done { continuation.resume() }
            if start { startDraining() }
            endGathering()
        }
        if let failure = state.withLock({ $0.failures.removeValue(forKey: turnID) }) {
            throw failure
        }
    }

    /// Writes a batch; on failure tries again, then turn by turn, so one turn's bad events
    /// (or a passing lock) do not cost the other turns theirs. Returns the turns whose events
    /// could not be written.
    private func write(_ batch: [TurnEvent]) async -> [TurnID: any Error] {
        if await attempt(batch) == nil { return [:] }
        var failures: [TurnID: any Error] = [:]
        for (turnID, events) in Dictionary(grouping: batch, by: \.turnID) {
            if let error = await attempt(events) {
                logger.error(
                    "event log write failed", metadata: ["turn": "\(turnID)", "events": "\(events.count)", "error": "\(error)"])
                failures[turnID] = error
            }
        }
        return failures
    }

    /// One write, tried three times with a short pause between; the last error, or nil.
    private func attempt(_ events: [TurnEvent]) async -> (any Error)? {
        var lastError: (any Error)?
        for pause in [Duration.zero, .milliseconds(50), .milliseconds(250)] {
            if pause > .zero { try? await Task.sleep(for: pause) }
            do {
                let started = ContinuousClock.now
                try await store.appendEvents(events)
                writeLatency.record(duration: ContinuousClock.now - started)
                batchSize.record(events.count)
                return nil
            } catch {
                lastError = error
            }
        }
        return lastError
    }

    private func startDraining() {
        // The drain outlives the caller by design: it is the group commit of everyone's
        // events, and `flush` is how a caller waits for it.
        Task { await drain() }
    }

    /// Lets a small batch gather for `gatherWindow`, unless someone waits for the log or the
    /// batch is full.
    private func gather() async {
        guard gatherWindow > .zero else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let writeNow = state.withLock { state -> Bool in
                let nothingToGather = state.pending.isEmpty && state.pendingReaders.isEmpty
                if nothingToGather || state.demanded || !state.waiters.isEmpty || state.pending.count >= maxBatch { return true }
                state.gathering = continuation
                return false
            }
            if writeNow {
                continuation.resume()
                return
            }
            Task { [clock, gatherWindow] in
                try? await clock.sleep(for: gatherWindow)
                self.endGathering()
            }
        }
    }

    /// Ends the gather window now (a flush waits, or the batch is full).
    private func endGathering() {
        let gathering = state.withLock { state in
            defer { state.gathering = nil }
            return state.gathering
        }
        gathering?.resume()
    }

    private func drain() async {
        while true {
            await gather()
            let (batch, readers, notes, dropped) = state.withLock { state -> ([PendingEvent], [TurnID: ReaderCount], Int, Int) in
                let taken = state.pending.prefix(maxBatch)
                state.pending.removeFirst(taken.count)
                state.demanded = false
                // Events of a turn whose write failed are not written: its log ends at the failure.
                let batch = state.failures.isEmpty ? Array(taken) : taken.filter { state.failures[$0.event.turnID] == nil }
                let readers = state.pendingReaders
                let notes = state.pendingReaderNotes
                state.pendingReaders = [:]
                state.pendingReaderNotes = 0
                if taken.isEmpty && readers.isEmpty { state.draining = false }
                return (batch, readers, notes, taken.count - batch.count)
            }
            if batch.isEmpty && readers.isEmpty && dropped == 0 { return }
            if !readers.isEmpty {
                do {
                    try await store.noteReaders(readers)
                } catch {
                    logger.warning("could not count stream readers", metadata: ["error": "\(error)"])
                }
                for waiter in state.withLock({ $0.complete(notes: notes) }) { waiter.resume() }
            }
            if dropped > 0 {
                for waiter in state.withLock({ $0.complete(events: dropped) }) { waiter.resume() }
            }
            guard !batch.isEmpty else { continue }
            let failures = await write(batch.map(\.event))
            // Observers first: once the batch counts as written, a `flush` may return without
            // waiting, and its caller must then find the observers up to date.
            report(batch, failures: failures)
            let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.failures.merge(failures) { first, _ in first }
                state.batchesWritten += 1
                return state.complete(events: batch.count)
            }
            for waiter in ready { waiter.resume() }
        }
    }

    /// Tells each turn's observer how far its events are written, or that they failed.
    private func report(_ batch: [PendingEvent], failures: [TurnID: any Error]) {
        var written: [TurnID: (seq: Int, observer: any EventWriteObserver)] = [:]
        var failed: [TurnID: any EventWriteObserver] = [:]
        for item in batch {
            guard let observer = item.observer else { continue }
            if failures[item.event.turnID] != nil {
                failed[item.event.turnID] = observer
            } else {
                written[item.event.turnID] = (item.event.seq, observer)
            }
        }
        for (_, mark) in written { mark.observer.eventsWritten(through: mark.seq) }
        for (turnID, observer) in failed {
            if let error = failures[turnID] { observer.eventsNotWritten(error) }
        }
    }
}
