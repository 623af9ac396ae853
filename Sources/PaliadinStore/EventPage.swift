import PaliadinCore

/// A page of a turn's events bounded by the size of their data: the first event always
/// fits; the others only while the page stays within `maxBytes`.
public struct EventPage: Sendable {
    public let maxBytes: Int
    public private(set) var events: [TurnEvent] = []
    public private(set) var bytes = 0

    public init(maxBytes: Int) {
        self.maxBytes = maxBytes
    }

    /// Adds `event` when it fits; false when it does not (the page is then full).
    public mutating func add(_ event: TurnEvent) -> Bool {
        let size = event.data.utf8.count
        guard events.isEmpty || bytes + size <= maxBytes else { return false }
        events.append(event)
        bytes += size
        return true
    }
}
