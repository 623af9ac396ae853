import PaliadinCore

/// What a reader of one turn's stream knows: the last event it has, whether the answer has
/// begun, whether the turn has ended. Fed the events of every connection in turn, it says what
/// each one means and drops what was already seen, so a resumed stream prints nothing twice.
public struct TurnStreamState: Sendable {
    /// What an event asks the reader to do.
    public enum Action: Sendable, Equatable {
        /// Nothing: a keep-alive, an event already seen, or one this client does not know.
        case none
        /// The turn's first event (`meta`).
        case started
        /// The backend is silent (`thinking`).
        case thinking(ThinkingPayload)
        /// More of the answer (`content`: a `delta`, or the one-shot `text`).
        case content(String)
        /// The turn's last event (`end` or `error`).
        case finished(TurnEnding)
    }

    /// The highest event id seen: the `Last-Event-ID` of the next connection.
    public private(set) var lastEventID: Int?
    /// True once some answer text has arrived.
    public private(set) var hasContent = false
    /// True once the turn's last event has arrived.
    public private(set) var isFinished = false
    /// Events dropped because their id had been seen already.
    public private(set) var duplicates = 0
    /// Events of the current connection (since `connectionOpened()`) that were new.
    public private(set) var newOnConnection = 0
    /// Events of the current connection that were dropped as already seen.
    public private(set) var duplicatesOnConnection = 0

    /// A reader that has seen nothing.
    public init() {}

    /// A new connection to the stream begins: the per-connection counts start again.
    public mutating func connectionOpened() {
        newOnConnection = 0
        duplicatesOnConnection = 0
    }

    /// True when the current connection has brought no new event (only replays of what the
    /// reader had, or nothing at all): when it ends so, the turn's row tells more than
    /// reconnecting would.
    public var connectionBroughtNothingNew: Bool { newOnConnection == 0 }

    /// Takes one event; returns what it means.
    public mutating func handle(_ event: ServerSentEventParser.Event) -> Action {
        // A keep-alive carries no id of its own (the parser repeats the last one): not a replay.
        if event.name == "ping" { return .none }
        let isLast = event.name == "end" || event.name == "error"
        if let text = event.id, let id = Int(text) {
            if let last = lastEventID, id <= last {
                // The turn's last frame is let through while the turn has not ended here: the
                // server re-sends its last stored event after a crash, and the frame that closes
                // a turn whose instance died (`interrupted`) may carry a lower id. It cannot
                // print any text twice.
                guard isLast, !isFinished else {
                    duplicates += 1
                    duplicatesOnConnection += 1
                    return .none
                }
            } else {
                lastEventID = id
            }
        }
        guard !isFinished else { return .none }
        newOnConnection += 1
        switch event.name {
        case "meta":
            return .started
        case "thinking":
            guard let payload = try? PayloadCoding.decode(ThinkingPayload.self, from: event.data) else { return .none }
            return .thinking(payload)
        case "content":
            guard let payload = try? PayloadCoding.decode(ContentPayload.self, from: event.data) else { return .none }
            let text = payload.addedText
            if !text.isEmpty { hasContent = true }
            return .content(text)
        case "end":
            isFinished = true
            return .finished(.completed)
        case "error":
            isFinished = true
            guard let payload = try? PayloadCoding.decode(ErrorPayload.self, from: event.data) else {
                return .finished(.failed(code: "unknown", message: event.data, retryable: nil))
            }
            if payload.code == TurnErrorCode.cancelled { return .finished(.cancelled) }
            return .finished(.failed(code: payload.code, message: payload.message, retryable: payload.retryable))
        default:
            return .none
        }
    }
}
