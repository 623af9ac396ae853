import PaliadinStore

/// How this instance takes part in a group of instances that share one database.
public struct ClusterMembership: Sendable {
    /// The shared database.
    public let store: any SharedTurnStore
    /// This instance, as the others see it.
    public let instance: InstanceInfo
    /// How often the instance says it is alive, looks for stop requests of its turns, and
    /// looks for dead instances whose turns it must close.
    public var heartbeatInterval: Duration
    /// An instance silent this long is presumed dead: its running turns are closed as
    /// `interrupted` by a survivor. A turn is closed at the latest about
    /// `instanceTimeout + heartbeatInterval` after its instance died.
    public var instanceTimeout: Duration

    public init(store: any SharedTurnStore, instance: InstanceInfo, heartbeatInterval: Duration = .seconds(5), instanceTimeout: Duration = .seconds(20)) {
        self.store = store
        self.instance = instance
        self.heartbeatInterval = heartbeatInterval
        self.instanceTimeout = instanceTimeout
    }
}
