import Foundation
import PaliadinCore
import Testing

@Suite("Conversation assembly, recovery rule, percentiles, payloads")
struct ConversationAndRulesTests {
    @Test("history is bounded by the budget, newest kept, page context in the system prompt")
    func conversationBudget() {
        let builder = ConversationBuilder(systemPrompt: "Be brief.", historyBudget: 20)
        let history = [
            PastExchange(userMessage: "old question", response: "old answer"),
            PastExchange(userMessage: "q2", response: "a2"),
            PastExchange(userMessage: "q3", response: "a3"),
        ]
        let messages = builder.messages(
            userMessage: "now?", pageOrigin: "/orders/7", context: .object(["title": .string("Order 7")]), history: history)
        #expect(messages.map(\.role) == [.system, .user, .assistant, .user, .assistant, .user])
        #expect(messages[1].content == "q2")
        #expect(messages.last?.content == "now?")
        #expect(messages[0].content.contains("Be brief."))
        #expect(messages[0].content.contains("/orders/7"))
        #expect(messages[0].content.contains(#""title":"Order 7""#))
    }

    @Test("recovery: recovered with a response, lost when ended without, pending until the give-up age")
    func recoveryStates() {
        let rule = RecoveryRule(giveUpAfter: .seconds(60))
        let start = Date(timeIntervalSince1970: 1_000_000)
        #expect(rule.state(status: .completed, response: "hi", startedAt: start, now: start) == .recovered)
        #expect(rule.state(status: .interrupted, response: "partial", startedAt: start, now: start) == .recovered)
        #expect(rule.state(status: .failed, response: "", startedAt: start, now: start) == .lost)
        #expect(rule.state(status: .running, response: "", startedAt: start, now: start.addingTimeInterval(59)) == .pending)
        #expect(rule.state(status: .running, response: "", startedAt: start, now: start.addingTimeInterval(61)) == .lost)
    }

    @Test("nearest-rank percentiles")
    func percentiles() {
        let values = Array(1...100).shuffled()
        #expect(Percentiles(of: values) == Percentiles(p50: 50, p95: 95, p99: 99))
        #expect(Percentiles(of: []) == Percentiles(p50: nil, p95: nil, p99: nil))
        #expect(Percentiles(of: [7]) == Percentiles(p50: 7, p95: 7, p99: 7))
    }

    @Test("payloads encode with the contract's snake_case names and RFC 3339 times")
    func payloadEncoding() throws {
        let id = TurnID()
        let meta = PayloadCoding.encode(MetaPayload(turnID: id, startedAt: Date(timeIntervalSince1970: 0.123)))
        #expect(meta == #"{"started_at":"1970-01-01T00:00:00.123Z","turn_id":"\#(id)"}"#)
        #expect(PayloadCoding.encode(ContentPayload.delta("hi")) == #"{"delta":"hi","streamed":true}"#)
        #expect(PayloadCoding.encode(ThinkingPayload(elapsedSeconds: 5, sinceFirst: false)) == #"{"elapsed_seconds":5,"since_first":false}"#)
        let decoded = try PayloadCoding.decode(MetaPayload.self, from: meta)
        #expect(decoded.turnID == id)
    }

    @Test("stats: errors exclude cancellations, days and backends grouped")
    func statsAggregate() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let samples = [
            StatsSample(status: .completed, errorCode: nil, startedAt: now, durationMS: 100, ttftMS: 10, backend: "openai", model: "m"),
            StatsSample(status: .failed, errorCode: "upstream_error", startedAt: now, durationMS: 300, ttftMS: nil, backend: "openai", model: "m"),
            StatsSample(status: .cancelled, errorCode: "cancelled", startedAt: now.addingTimeInterval(-86_400 * 3), durationMS: 50, ttftMS: 5, backend: "openai", model: "m"),
            StatsSample(status: .running, errorCode: nil, startedAt: now, durationMS: nil, ttftMS: nil, backend: "openai", model: "m"),
        ]
        let stats = StatsSample.aggregate(samples, now: now)
        #expect(stats.turnsTotal == 4)
        #expect(stats.turnsToday == 3)
        #expect(stats.turns7d == 4)
        #expect(stats.running == 1)
        #expect(stats.errorsTotal == 1)
        #expect(stats.errorsByCode == ["upstream_error": 1])
        #expect(abs(stats.errorRate - 1.0 / 3.0) < 1e-9)
        #expect(stats.durationMS.p50 == 100)
        #expect(stats.byDay.count == 2)
        #expect(stats.byBackend.first?.turns == 4)
    }
}
