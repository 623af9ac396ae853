import PaliadinCore
import Testing

@Suite("ServerSentEventParser")
struct ServerSentEventParserTests {
    @Test("events, comments, multi-line data, and every line ending")
    func parsesStream() throws {
        var parser = ServerSentEventParser()
        let text = ": ping\r\nevent: update\nid: 7\ndata: a\ndata: b\n\ndata: [DONE]\r\r"
        let items = try parser.feed(Array(text.utf8))
        #expect(
            items == [
                .comment("ping"),
                .event(.init(name: "update", data: "a\nb", id: "7")),
                .event(.init(name: nil, data: "[DONE]", id: "7")),  // the last id carries over
            ])
    }

    @Test("the retry: field, however the bytes are split, and only as a whole field of digits")
    func retryHint() throws {
        let stream = Array("retry: 2500\n\nid: 1\nevent: meta\ndata: {\"retry: 9\"}\n\nretry:x\n\nretry: 12a\r\n\r\n".utf8)
        for split in 0...stream.count {
            var parser = ServerSentEventParser()
            _ = try parser.feed(stream[..<split])
            _ = try parser.feed(stream[split...])
            #expect(parser.retryMilliseconds == 2500, "split at \(split)")
        }
        var crlf = ServerSentEventParser()
        _ = try crlf.feed(Array("retry:40\r\n\r\n".utf8))
        #expect(crlf.retryMilliseconds == 40)
        var none = ServerSentEventParser()
        _ = try none.feed(Array("data: x\n\n".utf8))
        #expect(none.retryMilliseconds == nil)
    }

    @Test("bytes split anywhere, even inside a CRLF and a UTF-8 character, give the same events")
    func splitFeeding() throws {
        let text = "data: {\"x\":\"é😀\"}\r\n\r\n: keep\r\ndata: two\r\n\r\n"
        var whole = ServerSentEventParser()
        let expected = try whole.feed(Array(text.utf8))
        let bytes = Array(text.utf8)
        for split in 1..<bytes.count {
            var parser = ServerSentEventParser()
            let items = try parser.feed(bytes[..<split]) + parser.feed(bytes[split...])
            #expect(items == expected, "split at \(split)")
        }
    }

    @Test("a line over the limit is an error, not unbounded memory")
    func lineLimit() {
        var parser = ServerSentEventParser(maxLineLength: 16)
        #expect(throws: ServerSentEventParser.LineTooLong(limit: 16)) {
            _ = try parser.feed(Array(String(repeating: "x", count: 100).utf8))
        }
    }

    @Test("an event without its blank line is dropped at the end of the stream")
    func unterminatedEvent() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("data: half".utf8)).isEmpty)
        #expect(parser.finish().isEmpty)
    }
}
