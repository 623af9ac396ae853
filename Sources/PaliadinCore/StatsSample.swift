import Foundation

/// The few columns of one turn that the dashboard's aggregates need.
public struct StatsSample: Sendable, Equatable {
    public var status: TurnStatus
    public var errorCode: String?
    public var startedAt: Date
    public var durationMS: Int?
    public var ttftMS: Int?
    public var backend: String
    public var model: String

    public init(status: TurnStatus, errorCode: String?, startedAt: Date, durationMS: Int?, ttftMS: Int?, backend: String, model: String) {
        self.status = status
        self.errorCode = errorCode
        self.startedAt = startedAt
        self.durationMS = durationMS
        self.ttftMS = ttftMS
        self.backend = backend
        self.model = model
    }

    /// An error is any finished turn that did not complete, except the ones the user cancelled.
    public var isError: Bool { status == .failed || status == .interrupted }

    /// Aggregates samples into the dashboard's figures; days are UTC, newest last, the last 30 at most.
    public static func aggregate(_ samples: [StatsSample], now: Date) -> TurnStats {
        let today = TimestampFormat.day(of: now)
        let weekAgo = now.addingTimeInterval(-7 * 86_400)
        let finished = samples.filter { $0.status.isFinal }
        let errors = samples.filter(\.isError)
        var errorsByCode: [String: Int] = [:]
        for sample in errors { errorsByCode[sample.errorCode ?? "unknown", default: 0] += 1 }

        let byBackend = Dictionary(grouping: samples) { "\($0.backend)\u{0}\($0.model)" }.values.map { group in
            TurnStats.BackendLine(
                backend: group[0].backend, model: group[0].model, turns: group.count, errors: group.filter(\.isError).count,
                durationP50MS: Percentiles.rank(0.5, group.compactMap(\.durationMS).sorted()),
                ttftP50MS: Percentiles.rank(0.5, group.compactMap(\.ttftMS).sorted()))
        }.sorted { ($0.turns, $1.backend) > ($1.turns, $0.backend) }

        let byDay = Dictionary(grouping: samples) { TimestampFormat.day(of: $0.startedAt) }.map { day, group in
            let duration = Percentiles(of: group.compactMap(\.durationMS))
            let ttft = Percentiles(of: group.compactMap(\.ttftMS))
            return TurnStats.DayLine(
                day: day, turns: group.count, errors: group.filter(\.isError).count,
                durationP50MS: duration.p50, durationP95MS: duration.p95, ttftP50MS: ttft.p50, ttftP95MS: ttft.p95)
        }.sorted { $0.day < $1.day }.suffix(30)

        return TurnStats(
            turnsTotal: samples.count,
            turnsToday: samples.filter { TimestampFormat.day(of: $0.startedAt) == today }.count,
            turns7d: samples.filter { $0.startedAt >= weekAgo }.count,
            running: samples.count - finished.count,
            errorsTotal: errors.count,
            errorRate: finished.isEmpty ? 0 : Double(errors.count) / Double(finished.count),
            errorsByCode: errorsByCode,
            durationMS: Percentiles(of: samples.compactMap(\.durationMS)),
            ttftMS: Percentiles(of: samples.compactMap(\.ttftMS)),
            byBackend: byBackend,
            byDay: Array(byDay),
            generatedAt: TimestampFormat.string(from: now))
    }
}
