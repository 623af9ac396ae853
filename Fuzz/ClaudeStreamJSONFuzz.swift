// libFuzzer target: the stream-json line splitter and decoder of the CLI agent backend
// (Claude Code's `--output-format stream-json`). Built and run by scripts/fuzz.sh together
// with the backend's source file; not part of the Swift package.
//
// The first input byte chooses how the rest is cut into reads. Splitting must never crash,
// must refuse a line over its limit, and must give the same lines however the bytes are cut;
// decoding any line must never crash, and no text is passed on after the `result` line.

@_cdecl("LLVMFuzzerTestOneInput")
public func claudeStreamJSONFuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: start, count: count)
    let readSize = Int(input[0]) % 29 + 1
    let body = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[1...])
    let limit = 4096

    func split(readSize: Int) -> [[UInt8]]? {
        var splitter = ClaudeStreamJSON.LineSplitter(maxLineLength: limit)
        var lines: [[UInt8]] = []
        var offset = 0
        while offset < body.count {
            let end = min(offset + readSize, body.count)
            do {
                lines += try splitter.feed(UnsafeRawBufferPointer(rebasing: body[offset..<end]))
            } catch {
                return nil
            }
            offset = end
        }
        if let last = splitter.finish() { lines.append(last) }
        return lines
    }

    let whole = split(readSize: max(body.count, 1))
    let pieces = split(readSize: readSize)
    check(whole == pieces, "cutting the input into reads of \(readSize) bytes changed the lines")
    guard let lines = whole else { return 0 }
    check(lines.allSatisfy { $0.count <= limit }, "a line over the limit got through")

    var stream = ClaudeStreamJSON()
    for line in lines {
        let ended = stream.outcome != nil
        do {
            let events = try stream.decode(line)
            if ended { check(events.isEmpty, "events after the result line") }
        } catch {
            // A failure (a rejected rate limit) is an answer, not a crash.
        }
    }
    return 0
}

/// Stops the run with a message (kept in optimized builds, unlike `precondition`'s).
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
