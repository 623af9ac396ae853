import Logging
import PaliadinCore

/// Writes turn events (and reader counts) to the store in small batches (group commit).
///
/// `append` returns at once; while one batch is being written, new events gather for the
/// next, so a busy token stream costs one transaction per batch instead of one per token.
/// `flush` waits until everything appended before it is durable.
public actor EventLogWriter {
    private let store: any TurnStore
    private let logger: Logger
    private let maxBatch: Int
    private var pending: [TurnEvent] = []
    private var pendingReaders: [TurnID: ReaderCount] = [:]
    private var appended = 0
    private var written = 0
    private var draining = false
    /// How many transactions the writer has made (for tests and metrics).
    public private(set) var batchesWritten = 0
    private var failures: [TurnID: any Error] = [:]
    private var waiters: [(target: Int, continuation: CheckedContinuation<Void, any Error>)] = []

    /// - Parameter maxBatch: the most events in one transaction.
    public init(store: any TurnStore, logger: Logger, maxBatch: Int = 512) {
        self.store = store
        self.logger = logger
        self.maxBatch = maxBatch
    }

    /// Queues an event for the next batch.
    public func append(_ event: TurnEvent) {
        pending.append(event)
        appended += 1
        startDraining()
    }

    /// Counts a reader that opened a turn's stream, without making the reader wait for a write.
    public func noteReader(of turnID: TurnID, resumed: Bool) {
        pendingReaders[turnID, default: ReaderCount()].connects += 1
        if resumed { pendingReaders[turnID, default: ReaderCount()].resumes += 1 }
        startDraining()
    }

    private func startDraining() {
        guard !draining else { return }
        draining = true
        Task { await self.drain() }
    }

    /// Waits until every event appended so far is written. Throws when a write of one of
    /// `turnID`'s events failed (their events are then not all in the log).
    public func flush(turn turnID: TurnID) async throws {
        if written < appended {
            let target = appended
            try await withCheckedThrowingContinuation { continuation in
                waiters.append((target, continuation))
            }
        }
        if let failure = failures.removeValue(forKey: turnID) {
            throw failure
        }
    }

    private func drain() async {
        while !pending.isEmpty || !pendingReaders.isEmpty {
            if !pendingReaders.isEmpty {
                let counts = pendingReaders
                pendingReaders = [:]
                do {
                    try await store.noteReaders(counts)
                } catch {
                    logger.warning("could not count stream readers", metadata: ["error": "\(error)"])
                }
            }
            guard !pending.isEmpty else { continue }
            let batch = Array(pending.prefix(maxBatch))
            pending.removeFirst(batch.count)
            do {
                try await store.appendEvents(batch)
                batchesWritten += 1
            } catch {
                logger.error("event log write failed", metadata: ["events": "\(batch.count)", "error": "\(error)"])
                for event in batch { failures[event.turnID] = error }
            }
            written += batch.count
            let ready = waiters.filter { $0.target <= written }
            waiters.removeAll { $0.target <= written }
            for waiter in ready { waiter.continuation.resume() }
        }
        draining = false
    }
}
