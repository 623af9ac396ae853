import GRDB
import Synchronization

/// Copies the write-ahead log back into the database file in the background, on its own
/// connection, so that no writer waits for it.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold, and a
/// checkpoint syncs the database file to disk: on a slow disk that one commit (a POST /turn,
/// a batch of stream events) would stall for tens of milliseconds. Here the store counts its
/// write transactions and, every `interval` of them, starts a passive checkpoint (one at a
/// time), which readers and writers do not wait for.
final class WALCheckpointer: Sendable {
    private struct State {
        var writesSinceCheckpoint = 0
        var running = false
        var completed = 0
    }

    private let connection: DatabaseQueue
    private let interval: Int
    private let state = Mutex(State())

    /// Opens its own connection to the database at `path` (which must already be in WAL mode).
    init(path: String, interval: Int = 64) throws {
        var configuration = Configuration()
        configuration.label = "paliadin-checkpoint"
        configuration.busyMode = .timeout(10)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.interval = max(1, interval)
    }

    /// Checkpoints finished so far.
    var checkpointsCompleted: Int { state.withLock { $0.completed } }

    /// Counts one write transaction; starts a checkpoint when enough have gathered.
    func noteWrite() {
        let start = state.withLock { state -> Bool in
            state.writesSinceCheckpoint += 1
            guard state.writesSinceCheckpoint >= interval, !state.running else { return false }
            state.writesSinceCheckpoint = 0
            state.running = true
            return true
        }
        guard start else { return }
        connection.asyncWriteWithoutTransaction { db in
            // A passive checkpoint copies what no reader still needs and never blocks; what it
            // leaves is taken by the next one.
            _ = try? db.checkpoint(.passive)
            self.state.withLock { state in
                state.running = false
                state.completed += 1
            }
        }
    }
}
