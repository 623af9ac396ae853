/// The `code` values of `error` events and of the audit row's `error_code`.
public enum TurnErrorCode {
    /// The backend answered with an error, or its stream broke.
    public static let upstreamError = "upstream_error"
    /// A streaming backend sent nothing (not even a heartbeat) for the silence limit.
    public static let upstreamSilence = "upstream_silence"
    /// The turn reached its hard ceiling.
    public static let upstreamTimeout = "upstream_timeout"
    /// The backend could not be reached at all.
    public static let backendUnavailable = "backend_unavailable"
    /// The user stopped the turn.
    public static let cancelled = "cancelled"
    /// The process running the turn stopped before it ended.
    public static let interrupted = "interrupted"
    /// Paliadin itself failed (for example the database refused a write).
    public static let internalError = "internal_error"
}
