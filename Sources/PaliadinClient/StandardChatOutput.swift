import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's standard output and standard error, written straight to the file
/// descriptors (no buffering, so each piece of an answer shows as it arrives).
public struct StandardChatOutput: ChatOutput {
    /// True when standard error is a terminal.
    public let errorIsTerminal: Bool

    /// The process's own streams.
    public init() {
        errorIsTerminal = isatty(STDERR_FILENO) == 1
    }

    /// Writes `text` to the file descriptor of `stream` at once.
    public func write(_ text: String, to stream: ChatOutputStream) {
        let handle = stream == .standardOutput ? FileHandle.standardOutput : FileHandle.standardError
        // A closed pipe (`paliadin chat q | head -c 10`) ends the process with SIGPIPE, as any
        // Unix tool; a write error without one has nowhere better to be reported.
        try? handle.write(contentsOf: Data(text.utf8))
    }
}
