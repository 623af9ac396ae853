import Foundation
import PaliadinCore

/// Turns the lines of Claude Code's `--output-format stream-json --verbose` output into backend
/// events, one line at a time.
///
/// - `system`/`init` gives the conversation id; other `system` lines, `user` lines (tool
///   results) and other activity are heartbeats; unknown types are skipped, and so is a line
///   that is not a JSON object (counted in `skippedLines`).
/// - Text arrives twice when partial messages are on: as `stream_event` text deltas, then
///   again in the `assistant` line of the finished message. A `TextLedger` per message passes
///   on only what was not passed on yet, so the answer is the same with or without deltas,
///   and with deltas that stopped halfway.
/// - Text of a subagent (a line with a `parent_tool_use_id`) is not the answer; its tools count.
/// - `result` gives the usage and ends the turn: answered, or failed when it is an error.
/// - A `rate_limit_event` fails the turn (retryable) only when its status is `rejected`.
struct ClaudeStreamJSON {
    /// How the agent said the turn ended.
    enum Outcome: Equatable {
        case answered
        case failed(BackendFailure)
    }

    private(set) var outcome: Outcome?
    private(set) var usedTools: [String] = []
    private(set) var conversationID: String?
    /// Lines that were not JSON objects.
    private(set) var skippedLines = 0
    private(set) var costUSD: Double?
    private(set) var durationMS: Double?
    private var ledger = TextLedger()
    private static let decoder = JSONDecoder()

    /// The events one line stands for. Lines after the `result` line are ignored.
    mutating func decode(_ line: [UInt8]) throws(BackendFailure) -> [BackendEvent] {
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return [] }
        guard let message = try? Self.decoder.decode(Line.self, from: Data(line)) else {
            skippedLines += 1
            return []
        }
        guard outcome == nil else { return [] }
        switch message.type {
        case "system": return system(message)
        case "assistant": return assistant(message)
        case "stream_event": return streamEvent(message)
        case "result": return result(message)
        case "rate_limit_event": return try rateLimit(message)
        case "user", "tool_progress", "tool_use_summary", "auth_status": return [.heartbeat]
        default: return []
        }
    }

    private mutating func system(_ line: Line) -> [BackendEvent] {
        guard line.subtype == "init", let id = line.sessionID, !id.isEmpty else { return [.heartbeat] }
        return conversation(id).map { [$0] } ?? [.heartbeat]
    }

    private mutating func conversation(_ id: String) -> BackendEvent? {
        guard id != conversationID else { return nil }
        conversationID = id
        return .conversation(id)
    }

    private mutating func assistant(_ line: Line) -> [BackendEvent] {
        let blocks = line.message?.content ?? []
        var events: [BackendEvent] = []
        if line.parentToolUseID == nil {
            let text = blocks.filter { $0.type == "text" }.compactMap(\.text).joined()
            if !text.isEmpty, let piece = ledger.assembled(text, messageID: line.message?.id) {
                events.append(.chunk(piece))
            }
        }
        if let meta = toolsUsed(blocks.filter { $0.type == "tool_use" }.compactMap(\.name)) {
            events.append(meta)
        }
        return events.isEmpty ? [.heartbeat] : events
    }

    private mutating func streamEvent(_ line: Line) -> [BackendEvent] {
        guard let event = line.event, line.parentToolUseID == nil else { return [.heartbeat] }
        switch event.type {
        case "message_start":
            ledger.messageStarted(id: event.message?.id)
        case "content_block_start":
            if event.contentBlock?.type == "tool_use", let name = event.contentBlock?.name, let meta = toolsUsed([name]) {
                return [meta]
            }
        case "content_block_delta":
            if event.delta?.type == "text_delta", let text = event.delta?.text, let piece = ledger.streamed(text) {
                return [.chunk(piece)]
            }
        default:
            break
        }
        return [.heartbeat]
    }

    /// A `meta` event with every tool used so far, when `names` holds a new one.
    private mutating func toolsUsed(_ names: [String]) -> BackendEvent? {
        let new = names.filter { !$0.isEmpty && !usedTools.contains($0) }
        guard !new.isEmpty else { return nil }
        for name in new where !usedTools.contains(name) { usedTools.append(name) }
        return .meta(BackendMeta(usedTools: usedTools))
    }

    private mutating func result(_ line: Line) -> [BackendEvent] {
        var events: [BackendEvent] = []
        if let id = line.sessionID, !id.isEmpty, conversationID == nil, let event = conversation(id) {
            events.append(event)
        }
        costUSD = line.totalCostUSD
        durationMS = line.durationMS
        let failed = line.isError == true || (line.subtype.map { $0 != "success" } ?? false)
        if failed {
            outcome = .failed(Self.failure(for: line))
        } else {
            // An answer that came only in the result line (no text blocks) is still the answer.
            if !ledger.emittedAny, let text = line.result, !text.isEmpty { events.append(.chunk(text)) }
            outcome = .answered
        }
        if let usage = line.usage, usage.tokensIn != nil || usage.outputTokens != nil {
            events.append(.usage(tokensIn: usage.tokensIn, tokensOut: usage.outputTokens))
        }
        return events
    }

    /// Subtypes that mean a limit the agent was configured with; trying again ends the same way.
    private static let finalSubtypes: Set<String> = ["error_max_turns", "error_max_budget_usd"]

    static func failure(for line: Line) -> BackendFailure {
        let subtype = line.subtype ?? "error"
        var detail = (line.result ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if detail.isEmpty { detail = (line.errors ?? []).joined(separator: "; ") }
        if detail.isEmpty {
            detail = switch subtype {
            case "error_max_turns": "it reached its turn limit"
            case "error_max_budget_usd": "it reached its budget"
            case "error_during_execution": "it failed while running"
            default: "it reported an error"
            }
        }
        if detail.count > 1000 { detail = String(detail.prefix(1000)) + "…" }
        return BackendFailure(
            code: TurnErrorCode.upstreamError, message: "the agent failed (\(subtype)): \(detail)",
            retryable: !finalSubtypes.contains(subtype))
    }

    private mutating func rateLimit(_ line: Line) throws(BackendFailure) -> [BackendEvent] {
        guard let info = line.rateLimitInfo, info.status == "rejected" else { return [.heartbeat] }
        var message = "the agent's usage limit is reached"
        if let kind = info.rateLimitType, !kind.isEmpty { message += " (\(kind))" }
        if let resetsAt = info.resetsAt {
            message += "; it resets at " + Date(timeIntervalSince1970: resetsAt).formatted(.iso8601)
        }
        let failure = BackendFailure(code: TurnErrorCode.upstreamError, message: message, retryable: true)
        outcome = .failed(failure)
        throw failure
    }
}

extension ClaudeStreamJSON {
    /// One line of the stream, read leniently: a field of an unexpected type reads as absent,
    /// so a change in a field the decoder does not need cannot hide the line.
    struct Line: Decodable {
        var type: String?
        var subtype: String?
        var sessionID: String?
        var parentToolUseID: String?
        var message: Message?
        var event: StreamEvent?
        var isError: Bool?
        var durationMS: Double?
        var totalCostUSD: Double?
        var usage: Usage?
        var result: String?
        var errors: [String]?
        var rateLimitInfo: RateLimitInfo?

        enum CodingKeys: String, CodingKey {
            case type, subtype, message, event, usage, result, errors
            case sessionID = "session_id"
            case parentToolUseID = "parent_tool_use_id"
            case isError = "is_error"
            case durationMS = "duration_ms"
            case totalCostUSD = "total_cost_usd"
            case rateLimitInfo = "rate_limit_info"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = c.lenient(String.self, .type)
            subtype = c.lenient(String.self, .subtype)
            sessionID = c.lenient(String.self, .sessionID)
            parentToolUseID = c.lenient(String.self, .parentToolUseID)
            message = c.lenient(Message.self, .message)
            event = c.lenient(StreamEvent.self, .event)
            isError = c.lenient(Bool.self, .isError)
            durationMS = c.lenient(Double.self, .durationMS)
            totalCostUSD = c.lenient(Double.self, .totalCostUSD)
            usage = c.lenient(Usage.self, .usage)
            result = c.lenient(String.self, .result)
            errors = c.lenient([Lenient<String>].self, .errors)?.compactMap(\.value)
            rateLimitInfo = c.lenient(RateLimitInfo.self, .rateLimitInfo)
        }
    }

    struct Message: Decodable {
        var id: String?
        var content: [Block]?

        enum CodingKeys: String, CodingKey { case id, content }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = c.lenient(String.self, .id)
            content = c.lenient([Lenient<Block>].self, .content)?.compactMap(\.value)
        }
    }

    struct Block: Decodable {
        var type: String?
        var text: String?
        var name: String?

        enum CodingKeys: String, CodingKey { case type, text, name }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = c.lenient(String.self, .type)
            text = c.lenient(String.self, .text)
            name = c.lenient(String.self, .name)
        }
    }

    /// An Anthropic streaming event, as `stream_event` lines carry it.
    struct StreamEvent: Decodable {
        var type: String?
        var message: Message?
        var contentBlock: Block?
        var delta: Block?

        enum CodingKeys: String, CodingKey {
            case type, message, delta
            case contentBlock = "content_block"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = c.lenient(String.self, .type)
            message = c.lenient(Message.self, .message)
            contentBlock = c.lenient(Block.self, .contentBlock)
            delta = c.lenient(Block.self, .delta)
        }
    }

    struct Usage: Decodable {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheCreationInputTokens: Int?
        var cacheReadInputTokens: Int?

        /// Every token the model read: new input plus cache writes and reads.
        var tokensIn: Int? {
            let parts = [inputTokens, cacheCreationInputTokens, cacheReadInputTokens].compactMap { $0 }
            return parts.isEmpty ? nil : parts.reduce(0, +)
        }

        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
            case cacheCreationInputTokens = "cache_creation_input_tokens"
            case cacheReadInputTokens = "cache_read_input_tokens"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            inputTokens = c.lenient(Int.self, .inputTokens)
            outputTokens = c.lenient(Int.self, .outputTokens)
            cacheCreationInputTokens = c.lenient(Int.self, .cacheCreationInputTokens)
            cacheReadInputTokens = c.lenient(Int.self, .cacheReadInputTokens)
        }
    }

    struct RateLimitInfo: Decodable {
        var status: String?
        var rateLimitType: String?
        /// Seconds since 1970.
        var resetsAt: Double?

        enum CodingKeys: String, CodingKey { case status, rateLimitType, resetsAt }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            status = c.lenient(String.self, .status)
            rateLimitType = c.lenient(String.self, .rateLimitType)
            resetsAt = c.lenient(Double.self, .resetsAt)
        }
    }

    /// An element of an array that reads as nil when it has an unexpected shape.
    struct Lenient<Value: Decodable>: Decodable {
        var value: Value?

        init(from decoder: any Decoder) throws {
            value = try? decoder.singleValueContainer().decode(Value.self)
        }
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or nil when it is absent, null or of another type.
    fileprivate func lenient<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
        (try? decodeIfPresent(type, forKey: key)) ?? nil
    }
}

extension ClaudeStreamJSON {
    /// What of each message's text has been passed on, so text that arrives twice (as deltas,
    /// then in the finished message) goes on once.
    ///
    /// A message's text is seen through two views that only grow: the deltas received so far,
    /// and the text of its finished-message lines (Claude Code writes one line per content
    /// block, or one cumulative line; both are handled). Whichever view is ahead of what was
    /// passed on gives the next piece. Lengths are counted in Unicode scalars, which both views
    /// share. Text of a new message after earlier text starts a new paragraph.
    struct TextLedger {
        private struct Entry {
            var id: String?
            var streamed = 0
            var assembled = ""
            var emitted = 0
        }

        /// The most recent messages (older ones cannot receive text any more).
        private var entries: [Entry] = []
        /// The message that deltas belong to: the last one started.
        private var current: Int?
        private(set) var emittedAny = false
        /// Trailing newlines of the text passed on (up to 2).
        private var trailingNewlines = 0
        private static let keep = 8

        mutating func messageStarted(id: String?) {
            current = add(Entry(id: id))
        }

        /// A text delta of the current message; returns what to pass on.
        mutating func streamed(_ text: String) -> String? {
            let index = current ?? add(Entry(id: nil))
            current = index
            entries[index].streamed += text.unicodeScalars.count
            return advance(index, viewLength: entries[index].streamed, tail: text)
        }

        /// The text of a finished-message line; returns what to pass on.
        mutating func assembled(_ text: String, messageID: String?) -> String? {
            let index: Int
            if let messageID, let found = entries.lastIndex(where: { $0.id == messageID }) {
                index = found
            } else if let current, messageID == nil || entries[current].id == nil {
                index = current
            } else {
                index = add(Entry(id: messageID))
            }
            let previous = entries[index].assembled
            let full = !previous.isEmpty && text.hasPrefix(previous) ? text : previous + text
            entries[index].assembled = full
            return advance(index, viewLength: full.unicodeScalars.count, tail: full)
        }

        /// Passes on the part of a view (`tail` ends it) beyond what the message passed on.
        private mutating func advance(_ index: Int, viewLength: Int, tail: String) -> String? {
            let emitted = entries[index].emitted
            guard viewLength > emitted else { return nil }
            var piece = String(tail.unicodeScalars.suffix(viewLength - emitted))
            if emitted == 0, emittedAny {
                piece = String(repeating: "\n", count: max(0, 2 - trailingNewlines)) + piece
            }
            entries[index].emitted = viewLength
            emittedAny = true
            let newlines = piece.unicodeScalars.reversed().prefix { $0 == "\n" }.count
            trailingNewlines = newlines == piece.unicodeScalars.count ? min(2, trailingNewlines + newlines) : min(2, newlines)
            return piece
        }

        private mutating func add(_ entry: Entry) -> Int {
            entries.append(entry)
            if entries.count > Self.keep {
                entries.removeFirst(entries.count - Self.keep)
            }
            return entries.count - 1
        }
    }

    /// Splits output into lines (`\n`, an `\r` before it dropped), refusing a line longer than
    /// `maxLineLength` bytes before it is read whole.
    struct LineSplitter {
        struct LineTooLong: Error {
            let limit: Int
        }

        let maxLineLength: Int
        private var pending: [UInt8] = []

        init(maxLineLength: Int) {
            self.maxLineLength = max(1, maxLineLength)
        }

        /// The lines `bytes` completes.
        mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(LineTooLong) -> [[UInt8]] {
            var lines: [[UInt8]] = []
            var start = 0
            while let end = bytes[start...].firstIndex(of: 0x0A) {
                guard pending.count + (end - start) <= maxLineLength + 1 else { throw LineTooLong(limit: maxLineLength) }
                var line = pending
                pending = []
                line.append(contentsOf: bytes[start..<end])
                if line.last == 0x0D { line.removeLast() }
                guard line.count <= maxLineLength else { throw LineTooLong(limit: maxLineLength) }
                lines.append(line)
                start = end + 1
            }
            pending.append(contentsOf: bytes[start...])
            guard pending.count <= maxLineLength + 1 else { throw LineTooLong(limit: maxLineLength) }
            return lines
        }

        /// The last line, when the output did not end with a newline.
        mutating func finish() -> [UInt8]? {
            defer { pending = [] }
            if pending.last == 0x0D { pending.removeLast() }
            return pending.isEmpty ? nil : pending
        }
    }
}
