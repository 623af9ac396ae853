import NIOCore
import PaliadinCore
import PaliadinEngine

/// Server-Sent Events framing of turn events.
enum SSEFrame {
    /// The keep-alive frame (no id, so it does not move a reader's resume point).
    static let ping = ByteBuffer(string: "event: ping\ndata: {}\n\n")

    /// The frame of what a reader hands out: its events, or a keep-alive.
    static func encode(_ item: TurnReader.Item) -> ByteBuffer {
        switch item {
        case .events(let events): encode(events)
        case .ping: ping
        }
    }

    /// Frames for a run of events, in one buffer.
    static func encode(_ events: [TurnEvent]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(events.reduce(0) { $0 + $1.data.utf8.count + 40 })
        for event in events {
            buffer.writeString("id: ")
            buffer.writeString(String(event.seq))
            buffer.writeString("\nevent: ")
            buffer.writeString(event.kind.rawValue)
            buffer.writeString("\ndata: ")
            buffer.writeString(event.data)
            buffer.writeString("\n\n")
        }
        return buffer
    }
}
