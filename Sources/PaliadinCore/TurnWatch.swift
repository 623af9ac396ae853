/// The silence / thinking / deadline rules of one running turn, as a value type.
///
/// It knows no clock: the caller reports what happened and when (as time elapsed since
/// the turn started) and asks, at `nextWakeup`, what to do. It answers with actions the
/// caller performs. Once it has failed the turn it stays quiet.
public struct TurnWatch: Sendable {
    /// How the backend delivers its answer.
    public enum Mode: Sendable {
        /// Chunks and heartbeats as they come; subject to the silence limit.
        case streaming
        /// One answer at the end; only the one-shot ceiling applies.
        case oneShot
    }

    /// What the caller must do.
    public enum Action: Sendable, Equatable {
        /// Send a synthetic `thinking` event.
        case emitThinking(ThinkingPayload)
        /// Stop the backend and end the turn with this error.
        case fail(ErrorPayload)
    }

    public let policy: TurnTimingPolicy
    public let mode: Mode
    /// When the backend last showed life (chunk or heartbeat), or the start.
    public private(set) var lastActivity: Duration = .zero
    /// When the last `thinking` event went out (synthetic or passed through), if any.
    public private(set) var lastThinking: Duration?
    /// True once content has arrived.
    public private(set) var sawContent = false
    /// True once the watch failed the turn or was told it ended.
    public private(set) var isFinished = false

    public init(policy: TurnTimingPolicy, mode: Mode) {
        self.policy = policy
        self.mode = mode
    }

    private var deadline: Duration {
        mode == .streaming ? policy.streamingDeadline : policy.oneShotDeadline
    }

    private var silenceDeadline: Duration? {
        mode == .streaming ? lastActivity + policy.silenceLimit : nil
    }

    private var nextThinking: Duration {
        max(lastActivity, lastThinking ?? .zero) + policy.thinkingInterval
    }

    /// The next moment the caller should call `tick(at:)`; `nil` once finished.
    public var nextWakeup: Duration? {
        guard !isFinished else { return nil }
        return [nextThinking, silenceDeadline, deadline].compactMap { $0 }.min()
    }

    /// The backend sent a piece of the answer.
    public mutating func contentArrived(at now: Duration) {
        lastActivity = max(lastActivity, now)
        sawContent = true
    }

    /// The backend sent a heartbeat; the caller passes it on as a `thinking` event with `upstream: true`.
    /// Returns the payload to send, or `nil` once finished.
    public mutating func heartbeatArrived(at now: Duration) -> ThinkingPayload? {
        guard !isFinished else { return nil }
        lastActivity = max(lastActivity, now)
        lastThinking = now
        return ThinkingPayload(elapsedSeconds: Int(now.components.seconds), sinceFirst: sawContent, upstream: true)
    }

    /// The backend showed life in another way (metadata, conversation id) that is not an answer.
    public mutating func activity(at now: Duration) {
        lastActivity = max(lastActivity, now)
    }

    /// The turn ended by other means; the watch has nothing more to do.
    public mutating func finish() {
        isFinished = true
    }

    /// What to do at `now`. Call at (or after) `nextWakeup`; calling earlier does nothing.
    public mutating func tick(at now: Duration) -> [Action] {
        guard !isFinished else { return [] }
        if now >= deadline {
            isFinished = true
            let limit = Self.describe(deadline)
            let what = mode == .streaming ? "the turn" : "the backend"
            return [.fail(ErrorPayload(code: TurnErrorCode.upstreamTimeout, message: "\(what) ran past its \(limit) limit", retryable: true))]
        }
        if let silenceDeadline, now >= silenceDeadline {
            isFinished = true
            let limit = Self.describe(policy.silenceLimit)
            return [.fail(ErrorPayload(code: TurnErrorCode.upstreamSilence, message: "the backend sent nothing for \(limit)", retryable: true))]
        }
        if now >= nextThinking {
            lastThinking = now
            return [.emitThinking(ThinkingPayload(elapsedSeconds: Int(now.components.seconds), sinceFirst: sawContent))]
        }
        return []
    }

    /// "90 s", "30 min", "250 ms": a limit as people read it.
    static func describe(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 60_000 == 0 { return "\(ms / 60_000) min" }
        if ms % 1000 == 0 { return "\(ms / 1000) s" }
        return "\(ms) ms"
    }
}
