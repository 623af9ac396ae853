// libFuzzer target: the upstream Server-Sent Events parser (PaliadinCore).
// Built and run by scripts/fuzz.sh; not part of the Swift package.
//
// The parser must never crash, must refuse a line over its limit instead of growing, and
// must give the same events (or the same refusal) however the bytes are cut into reads.

@_cdecl("LLVMFuzzerTestOneInput")
public func serverSentEventParserFuzz(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let input = FuzzInput(start, count, maxRead: 23) else { return 0 }
    let limit = 96

    /// The items of the whole body, or nil when a line was refused as too long.
    func parse(reads: [UnsafeRawBufferPointer]) -> [ServerSentEventParser.Item]? {
        var parser = ServerSentEventParser(maxLineLength: limit)
        var items: [ServerSentEventParser.Item] = []
        do {
            for read in reads { items += try parser.feed(buffer: read) }
        } catch is ServerSentEventParser.LineTooLong {
            return nil
        } catch {
            fatalError("unexpected error \(error)")
        }
        return items + parser.finish()
    }

    let whole = parse(reads: [input.body])
    let pieces = parse(reads: input.reads(of: input.readSize))
    check(whole == pieces, "cutting the input into reads of \(input.readSize) bytes changed the result")
    for case .event(let event) in whole ?? [] {
        // Nothing is invented: each character of an event's data comes from at least one input
        // byte (bytes that are not UTF-8 become U+FFFD, which is longer in UTF-8 than the byte).
        check(event.data.unicodeScalars.count <= input.body.count, "an event's data is longer than the input")
    }
    return 0
}
