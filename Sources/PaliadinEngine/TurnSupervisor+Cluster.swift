import Logging
import PaliadinCore
import PaliadinStore

/// The supervisor's duties toward the other instances sharing its database.
extension TurnSupervisor {
    /// Says this instance is alive, then closes the turns of instances that are not, so a turn
    /// left running by a crashed instance (this one's last run included) does not wait for
    /// the next round.
    func joinCluster(_ cluster: ClusterMembership) async throws {
        try await cluster.store.heartbeat(cluster.instance)
        try await closeTurnsOfDeadInstances(cluster)
    }

    /// Every heartbeat interval: says this instance is alive, stops its turns that someone
    /// asked to stop (or that a survivor already closed), and closes dead instances' turns.
    /// Failures (the database away) are logged and retried at the next beat.
    ///
    /// After the database was unreachable, every instance's heartbeat looks old: this one
    /// waits one instance timeout of good heartbeats before it takes anyone for dead, so the
    /// others have time to beat again.
    func keepHeartbeat(_ cluster: ClusterMembership) async {
        var healthySince: Duration? = clock.now
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: cluster.heartbeatInterval)
            } catch {
                return
            }
            do {
                try await cluster.store.heartbeat(cluster.instance)
                let since = healthySince ?? clock.now
                healthySince = since
                let running = hub.runningTurnIDs
                if !running.isEmpty {
                    for turnID in try await cluster.store.turnsToStop(among: running) {
                        cancel(turnID)
                    }
                }
                if clock.now - since >= cluster.instanceTimeout {
                    try await closeTurnsOfDeadInstances(cluster)
                }
            } catch {
                if Task.isCancelled { return }
                healthySince = nil
                logger.warning("instance heartbeat failed; retrying", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Hands the shared store's notifications to the readers and runners of this instance,
    /// until the task is cancelled.
    func followNotifications(_ cluster: ClusterMembership) async {
        let signals = self.signals
        do {
            try await cluster.store.listen { [weak self] notification in
                switch notification {
                case .events(let turnID, _):
                    signals.signal(turnID)
                case .stopRequested(let turnID):
                    self?.cancel(turnID)
                case .listening:
                    // Whatever was said while nobody listened: readers look at the store again.
                    signals.signalAll()
                }
            }
        } catch {
            if !Task.isCancelled {
                logger.error("stopped following the shared database's notifications", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Removes this instance's heartbeat row once its turns are closed, so the others need
    /// not wait for it to go stale.
    func leaveCluster() async {
        guard let cluster, hub.count == 0 else { return }
        do {
            try await cluster.store.removeInstance(id: cluster.instance.id)
        } catch {
            logger.warning("could not remove this instance's heartbeat row", metadata: ["error": "\(error)"])
        }
    }

    private func closeTurnsOfDeadInstances(_ cluster: ClusterMembership) async throws {
        let closed = try await cluster.store.interruptTurnsOfDeadInstances(
            staleAfter: cluster.instanceTimeout, message: "the Paliadin instance running the turn stopped")
        if !closed.isEmpty {
            logger.warning("closed turns of an instance that stopped answering", metadata: ["count": "\(closed.count)"])
            for turnID in closed { signals.signal(turnID) }
        }
    }
}
