// libFuzzer target: the stream-json line splitter and decoder of the CLI agent backend
// (Claude Code's `--output-format stream-json`). Built and run by scripts/fuzz.sh together
// with the backend's source file; not part of the Swift package.
//
// Splitting must never crash, must refuse a line over its limit, and must give the same lines
// however the bytes are cut into reads; decoding any line must never crash, and no text is
// passed on after the `result` line.

@_cdecl("LLVMFuzzerTestOneInput")
public func claudeStreamJSONFuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let input = FuzzInput(start, count, maxRead: 29) else { return 0 }
    let limit = 4096

    /// The lines of the whole body, or nil when one was refused as too long.
    func split(reads: [UnsafeRawBufferPointer]) -> [[UInt8]]? {
        var splitter = ClaudeStreamJSON.LineSplitter(maxLineLength: limit)
        var lines: [[UInt8]] = []
        do {
            for read in reads { lines += try splitter.feed(read) }
        } catch {
            return nil
        }
        if let last = splitter.finish() { lines.append(last) }
        return lines
    }

    let whole = split(reads: [input.body])
    check(whole == split(reads: input.reads(of: input.readSize)), "cutting the input into reads of \(input.readSize) bytes changed the lines")
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
