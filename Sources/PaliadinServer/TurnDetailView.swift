import Hummingbird
import PaliadinCore

/// One turn as the dashboard's drill-down shows it: every field of its row (as `TurnView`)
/// plus its event log, `events: [{seq, event, data}]`, oldest first.
struct TurnDetailView: ResponseEncodable {
    /// One entry of the log; `data` is the event's JSON payload (its text, if it is not JSON).
    struct EventLine: Encodable {
        let seq: Int
        let event: String
        let data: JSONValue

        init(_ event: TurnEvent) {
            seq = event.seq
            self.event = event.kind.rawValue
            data = (try? PayloadCoding.decode(JSONValue.self, from: event.data)) ?? .string(event.data)
        }
    }

    let row: TurnView
    let events: [EventLine]
    /// True when the log held more events than the answer carries.
    let eventsTruncated: Bool

    init(record: TurnRecord, events: [TurnEvent], eventsTruncated: Bool = false) {
        row = TurnView(record)
        self.events = events.map(EventLine.init)
        self.eventsTruncated = eventsTruncated
    }

    func encode(to encoder: any Encoder) throws {
        // The row's fields and the log side by side in one object.
        try row.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(events, forKey: .events)
        try container.encode(eventsTruncated, forKey: .eventsTruncated)
    }

    enum CodingKeys: String, CodingKey {
        case events
        case eventsTruncated = "events_truncated"
    }
}
