import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard input (or another file descriptor) as a `LineSource`.
///
/// A thread of its own does the blocking reads (they must not hold a task's thread), and only
/// when asked: it reads the next line when the prompt wants one, so at most one line waits
/// (a line typed while an answer streams stays in the terminal's buffer, as a shell's
/// type-ahead does). A line longer than `maxLineLength` bytes is skipped, with
/// `InputLineTooLong`, without ever holding more than that much of it.
public final class StandardInputLines: LineSource {
    /// The longest line taken by default: far more than anyone types, far less than memory.
    public static let defaultMaxLineLength = 1 << 20

    /// The longest line taken, in bytes.
    public let maxLineLength: Int
    private let lines: LineHandOff

    /// Reads `fileDescriptor` (standard input by default), which it does not close.
    public init(fileDescriptor: Int32 = STDIN_FILENO, maxLineLength: Int = defaultMaxLineLength) {
        self.maxLineLength = maxLineLength
        let demand = DispatchSemaphore(value: 0)
        let lines = LineHandOff(onDemand: { demand.signal() })
        self.lines = lines
        let thread = Thread {
            var reader = FileLineReader(fileDescriptor: fileDescriptor, maxLineLength: maxLineLength)
            while true {
                demand.wait()
                let item = reader.next()
                lines.deliver(item)
                if item == .end { return }
            }
        }
        thread.name = "paliadin.chat.input"
        thread.start()
    }

    /// The next line; nil at the end of input (Ctrl-D at a terminal).
    public func nextLine() async throws -> String? {
        try await lines.nextLine()
    }
}

/// Lines of a file descriptor, read with blocking `read(2)` calls, a chunk at a time; holds at
/// most one chunk beyond the line being read, and at most `maxLineLength` bytes of that line.
struct FileLineReader {
    let fileDescriptor: Int32
    let maxLineLength: Int
    private var buffer: [UInt8] = []
    private var atEnd = false
    private static let chunk = 64 * 1024

    init(fileDescriptor: Int32, maxLineLength: Int) {
        self.fileDescriptor = fileDescriptor
        self.maxLineLength = maxLineLength
    }

    /// The next line (without `\n` or `\r\n`), a line that was too long, or the end.
    mutating func next() -> LineHandOff.Item {
        // Part of a line too long to keep was dropped: the rest of it goes too, up to its end.
        var skipping = false
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = buffer[..<newline]
                buffer.removeFirst(newline + 1)
                if line.last == 0x0D { line = line.dropLast() }
                if skipping || line.count > maxLineLength { return .tooLong(limit: maxLineLength) }
                return .line(String(decoding: line, as: UTF8.self))
            }
            if buffer.count > maxLineLength {
                skipping = true
                buffer.removeAll(keepingCapacity: true)
            }
            if atEnd {
                // A last line without a line break is still a line.
                if skipping { return .tooLong(limit: maxLineLength) }
                guard !buffer.isEmpty else { return .end }
                defer { buffer.removeAll() }
                return .line(String(decoding: buffer, as: UTF8.self))
            }
            readChunk()
        }
    }

    private mutating func readChunk() {
        var bytes = [UInt8](repeating: 0, count: Self.chunk)
        while true {
            let count = bytes.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.append(contentsOf: bytes[..<count])
                return
            }
            if count < 0, errno == EINTR { continue }
            // The end, or an error reading: either way there is nothing more to read.
            atEnd = true
            return
        }
    }
}
