/// The timing rules of a turn. The defaults are the contract's; tests shrink them.
public struct TurnTimingPolicy: Sendable, Equatable {
    /// A streaming backend silent this long (no chunk, no heartbeat) fails the turn with `upstream_silence`.
    public var silenceLimit: Duration
    /// How often a synthetic `thinking` event is sent while the backend is silent.
    public var thinkingInterval: Duration
    /// Hard ceiling of a streaming turn (`upstream_timeout`).
    public var streamingDeadline: Duration
    /// Hard ceiling of a one-shot backend (`upstream_timeout`).
    public var oneShotDeadline: Duration

    public init(
        silenceLimit: Duration = .seconds(90),
        thinkingInterval: Duration = .seconds(5),
        streamingDeadline: Duration = .seconds(30 * 60),
        oneShotDeadline: Duration = .seconds(150)
    ) {
        self.silenceLimit = silenceLimit
        self.thinkingInterval = thinkingInterval
        self.streamingDeadline = streamingDeadline
        self.oneShotDeadline = oneShotDeadline
    }
}
