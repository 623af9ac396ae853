// Shared by the libFuzzer targets (each built as its own program by scripts/fuzz.sh).

/// One fuzz input: its first byte chooses how the rest is cut into reads (1 to `maxRead`
/// bytes at a time); the rest is the data. Nil for an empty input.
struct FuzzInput {
    let readSize: Int
    let body: UnsafeRawBufferPointer

    init?(_ start: UnsafePointer<UInt8>, _ count: Int, maxRead: Int) {
        guard count > 0 else { return nil }
        let input = UnsafeRawBufferPointer(start: start, count: count)
        readSize = Int(input[0]) % maxRead + 1
        body = UnsafeRawBufferPointer(rebasing: input[1...])
    }

    /// The body cut into reads of `size` bytes.
    func reads(of size: Int) -> [UnsafeRawBufferPointer] {
        stride(from: 0, to: body.count, by: max(size, 1)).map { offset in
            UnsafeRawBufferPointer(rebasing: body[offset..<min(offset + max(size, 1), body.count)])
        }
    }
}

/// Stops the run with a message (kept in optimized builds, unlike `precondition`'s).
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
