/// Aggregates over the audit log, for the dashboard.
public struct TurnStats: Sendable, Equatable, Codable {
    /// One backend/model pair.
    public struct BackendLine: Sendable, Equatable, Codable {
        public var backend: String
        public var model: String
        public var turns: Int
        public var errors: Int
        public var durationP50MS: Int?
        public var ttftP50MS: Int?

        public init(backend: String, model: String, turns: Int, errors: Int, durationP50MS: Int?, ttftP50MS: Int?) {
            self.backend = backend
            self.model = model
            self.turns = turns
            self.errors = errors
            self.durationP50MS = durationP50MS
            self.ttftP50MS = ttftP50MS
        }

        enum CodingKeys: String, CodingKey {
            case backend, model, turns, errors
            case durationP50MS = "duration_p50_ms"
            case ttftP50MS = "ttft_p50_ms"
        }
    }

    /// One UTC day: its turns (by start time), errors and latency percentiles.
    public struct DayLine: Sendable, Equatable, Codable {
        /// `YYYY-MM-DD`, UTC.
        public var day: String
        public var turns: Int
        public var errors: Int
        public var durationP50MS: Int?
        public var durationP95MS: Int?
        public var ttftP50MS: Int?
        public var ttftP95MS: Int?

        public init(
            day: String, turns: Int, errors: Int, durationP50MS: Int?, durationP95MS: Int? = nil,
            ttftP50MS: Int? = nil, ttftP95MS: Int? = nil
        ) {
            self.day = day
            self.turns = turns
            self.errors = errors
            self.durationP50MS = durationP50MS
            self.durationP95MS = durationP95MS
            self.ttftP50MS = ttftP50MS
            self.ttftP95MS = ttftP95MS
        }

        /// Writes every key, `null` for a percentile the day has no timings for.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(day, forKey: .day)
            try container.encode(turns, forKey: .turns)
            try container.encode(errors, forKey: .errors)
            try container.encode(durationP50MS, forKey: .durationP50MS)
            try container.encode(durationP95MS, forKey: .durationP95MS)
            try container.encode(ttftP50MS, forKey: .ttftP50MS)
            try container.encode(ttftP95MS, forKey: .ttftP95MS)
        }

        enum CodingKeys: String, CodingKey {
            case day, turns, errors
            case durationP50MS = "duration_p50_ms"
            case durationP95MS = "duration_p95_ms"
            case ttftP50MS = "ttft_p50_ms"
            case ttftP95MS = "ttft_p95_ms"
        }
    }

    public var turnsTotal: Int
    public var turnsToday: Int
    public var turns7d: Int
    public var running: Int
    public var errorsTotal: Int
    /// Errors over finished turns, 0...1.
    public var errorRate: Double
    public var errorsByCode: [String: Int]
    public var durationMS: Percentiles
    public var ttftMS: Percentiles
    public var byBackend: [BackendLine]
    public var byDay: [DayLine]
    /// The moment the figures describe (RFC 3339, UTC): "today" and "7 days" are counted from it.
    public var generatedAt: String?

    public init(
        turnsTotal: Int, turnsToday: Int, turns7d: Int, running: Int, errorsTotal: Int, errorRate: Double,
        errorsByCode: [String: Int], durationMS: Percentiles, ttftMS: Percentiles, byBackend: [BackendLine], byDay: [DayLine],
        generatedAt: String? = nil
    ) {
        self.turnsTotal = turnsTotal
        self.turnsToday = turnsToday
        self.turns7d = turns7d
        self.running = running
        self.errorsTotal = errorsTotal
        self.errorRate = errorRate
        self.errorsByCode = errorsByCode
        self.durationMS = durationMS
        self.ttftMS = ttftMS
        self.byBackend = byBackend
        self.byDay = byDay
        self.generatedAt = generatedAt
    }

    enum CodingKeys: String, CodingKey {
        case turnsTotal = "turns_total"
        case turnsToday = "turns_today"
        case turns7d = "turns_7d"
        case running
        case errorsTotal = "errors_total"
        case errorRate = "error_rate"
        case errorsByCode = "errors_by_code"
        case durationMS = "duration_ms"
        case ttftMS = "ttft_ms"
        case byBackend = "by_backend"
        case byDay = "by_day"
        case generatedAt = "generated_at"
    }
}
