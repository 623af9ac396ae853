// libFuzzer target: the upstream Server-Sent Events parser (PaliadinCore).
// Built and run by scripts/fuzz.sh; not part of the Swift package.
//
// The first input byte chooses how the rest is cut into reads. The parser must never crash,
// must refuse a line over its limit instead of growing, and must give the same events (or
// the same refusal) however the bytes are cut.

@_cdecl("LLVMFuzzerTestOneInput")
public func serverSentEventParserFuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: start, count: count)
    let readSize = Int(input[0]) % 23 + 1
    let body = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(input)[1...])
    let limit = 96

    var whole = ServerSentEventParser(maxLineLength: limit)
    let wholeItems: [ServerSentEventParser.Item]?
    do {
        wholeItems = try whole.feed(Array(body)) + whole.finish()
    } catch is ServerSentEventParser.LineTooLong {
        wholeItems = nil
    } catch {
        fatalError("unexpected error \(error)")
    }

    var pieces = ServerSentEventParser(maxLineLength: limit)
    var pieceItems: [ServerSentEventParser.Item]? = []
    var offset = 0
    while offset < body.count {
        let end = min(offset + readSize, body.count)
        do {
            pieceItems! += try pieces.feed(buffer: UnsafeRawBufferPointer(rebasing: body[offset..<end]))
        } catch is ServerSentEventParser.LineTooLong {
            pieceItems = nil
            break
        } catch {
            fatalError("unexpected error \(error)")
        }
        offset = end
    }
    if pieceItems != nil { pieceItems! += pieces.finish() }

    check(wholeItems == pieceItems, "cutting the input into reads of \(readSize) bytes changed the result")
    for case .event(let event) in wholeItems ?? [] {
        // Nothing is invented: each character of an event's data comes from at least one input
        // byte (bytes that are not UTF-8 become U+FFFD, which is longer in UTF-8 than the byte).
        check(event.data.unicodeScalars.count <= body.count, "an event's data is longer than the input")
    }
    return 0
}

/// Stops the run with a message (kept in optimized builds, unlike `precondition`'s).
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
