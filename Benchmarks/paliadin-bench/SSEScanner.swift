#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Finds the frames that matter in a Server-Sent Events byte stream, read by read, without
/// decoding JSON: lines are split with `memchr`, a line split across reads is carried over
/// (its first 4 KiB only: enough for the prefixes looked at), a frame ends at a blank line.
struct SSEScanner {
    /// Which stream is read.
    enum Dialect: Sendable {
        /// An OpenAI chat completions stream: a `data:` frame whose JSON holds
        /// `"content":"` followed by a non-empty string is content; `data: [DONE]` is the end.
        case openAI
        /// A Paliadin turn stream: only the `event:` line matters (`content`, `end`, `error`).
        case paliadin
    }

    /// A frame that matters, reported when its blank line arrives.
    enum Signal { case content, end, error }

    private enum FrameKind { case other, content, end, error }

    private let dialect: Dialect
    private var carry: [UInt8] = []
    private var carryTruncated = false
    private var frame = FrameKind.other
    private static let carryLimit = 4096
    private static let contentMarker = Array(#""content":""#.utf8)

    init(dialect: Dialect) {
        self.dialect = dialect
    }

    /// Scans one read, calling `signal` for each frame that matters, in order.
    mutating func scan(_ buffer: ByteBuffer, _ signal: (Signal) -> Void) {
        buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            let count = bytes.count
            while start < count {
                guard let found = memchr(base + start, Int32(UInt8(ascii: "\n")), count - start) else {
                    keep(UnsafeRawBufferPointer(start: base + start, count: count - start))
                    return
                }
                let end = base.distance(to: UnsafeRawPointer(found))
                let piece = UnsafeRawBufferPointer(start: base + start, count: end - start)
                if carry.isEmpty && !carryTruncated {
                    line(piece, signal)
                } else {
                    keep(piece)
                    carry.withUnsafeBytes { line($0, signal) }
                    carry.removeAll(keepingCapacity: true)
                    carryTruncated = false
                }
                start = end + 1
            }
        }
    }

    private mutating func keep(_ piece: UnsafeRawBufferPointer) {
        let room = Self.carryLimit - carry.count
        if piece.count > room { carryTruncated = true }
        carry.append(contentsOf: piece.prefix(max(0, room)))
    }

    private mutating func line(_ raw: UnsafeRawBufferPointer, _ signal: (Signal) -> Void) {
        var text = raw
        if let last = text.last, last == UInt8(ascii: "\r") { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
        if text.isEmpty {
            switch frame {
            case .content: signal(.content)
            case .end: signal(.end)
            case .error: signal(.error)
            case .other: break
            }
            frame = .other
            return
        }
        switch dialect {
        case .paliadin:
            guard Self.hasPrefix(text, "event:") else { return }
            let name = Self.trimmed(UnsafeRawBufferPointer(rebasing: text.dropFirst(6)))
            if Self.equals(name, "content") {
                frame = .content
            } else if Self.equals(name, "end") {
                frame = .end
            } else if Self.equals(name, "error") {
                frame = .error
            } else {
                frame = .other
            }
        case .openAI:
            guard Self.hasPrefix(text, "data:") else { return }
            let payload = Self.trimmed(UnsafeRawBufferPointer(rebasing: text.dropFirst(5)))
            if Self.equals(payload, "[DONE]") {
                frame = .end
            } else if Self.hasContent(payload) {
                frame = .content
            }
        }
    }

    /// Whether a chunk's JSON holds `"content":"x…` (a non-empty content string).
    private static func hasContent(_ json: UnsafeRawBufferPointer) -> Bool {
        guard let base = json.baseAddress else { return false }
        return contentMarker.withUnsafeBytes { marker in
            var start = 0
            while json.count - start > marker.count {
                guard let quote = memchr(base + start, Int32(UInt8(ascii: "\"")), json.count - start - marker.count) else { return false }
                let at = base.distance(to: UnsafeRawPointer(quote))
                if memcmp(base + at, marker.baseAddress!, marker.count) == 0 {
                    return json[at + marker.count] != UInt8(ascii: "\"")
                }
                start = at + 1
            }
            return false
        }
    }

    private static func hasPrefix(_ text: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        guard text.count >= prefix.utf8CodeUnitCount else { return false }
        return memcmp(text.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
    }

    private static func equals(_ text: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        text.count == word.utf8CodeUnitCount && hasPrefix(text, word)
    }

    private static func trimmed(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var slice = text[...]
        while let first = slice.first, first == UInt8(ascii: " ") { slice = slice.dropFirst() }
        while let last = slice.last, last == UInt8(ascii: " ") { slice = slice.dropLast() }
        return UnsafeRawBufferPointer(rebasing: slice)
    }
}
