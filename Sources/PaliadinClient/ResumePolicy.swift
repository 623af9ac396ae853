/// How a dropped turn stream is resumed: when to reconnect, and when to give up.
///
/// The server's `retry:` hint (milliseconds) sets the first wait after a failure; each further
/// consecutive failure doubles it, up to `maxDelay`. A connection that brings a new event ends
/// the run of failures. After `giveUpAfter` of failures without a new event the client stops.
public struct ResumePolicy: Sendable, Equatable {
    /// The wait before reconnecting when the server has not sent a `retry:` hint.
    public var defaultDelay: Duration
    /// The longest wait between two attempts, whatever the hint says.
    public var maxDelay: Duration
    /// How long failures may go on, without a new event, before the client gives up.
    public var giveUpAfter: Duration

    /// A policy; the defaults suit a person at a terminal.
    public init(defaultDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(5), giveUpAfter: Duration = .seconds(60)) {
        self.defaultDelay = defaultDelay
        self.maxDelay = maxDelay
        self.giveUpAfter = giveUpAfter
    }

    /// The wait before the next attempt after `consecutiveFailures` failures in a row (1 for
    /// the first): the hint (else `defaultDelay`), doubled for each failure after the first,
    /// at most `maxDelay`; never less than 10 ms, so a server that asks for no wait is not hammered.
    public func delay(retryHint: Duration?, consecutiveFailures: Int) -> Duration {
        let base = max(retryHint ?? defaultDelay, .milliseconds(10))
        var delay = base
        for _ in 1..<max(consecutiveFailures, 1) {
            delay *= 2
            if delay >= maxDelay { break }
        }
        return min(delay, maxDelay)
    }
}
