import NIOCore
import PaliadinCore

/// Server-Sent Events framing of turn events.
enum SSEFrame {
    /// The keep-alive frame (no id, so it does not move a reader's resume point).
    static let ping = ByteBuffer(string: "event: ping\ndata: {}\n\n")

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
