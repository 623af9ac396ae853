import Hummingbird
import PaliadinCore

/// A turn's row as the API shows it (snake_case, RFC 3339 times).
struct TurnView: ResponseEncodable {
    let turnID: String
    let userID: String
    let sessionID: String
    let pageOrigin: String?
    let userMessage: String
    let status: String
    let response: String
    let errorCode: String?
    let errorMessage: String?
    let startedAt: String
    let firstTokenAt: String?
    let finishedAt: String?
    let durationMS: Int?
    let ttftMS: Int?
    let backend: String
    let model: String
    let tokensIn: Int?
    let tokensOut: Int?
    let usedTools: [String]
    let rowsSeen: [Int]
    let chipCount: Int
    let classifierTag: String
    let conversationID: String?
    let readerConnects: Int
    let readerResumes: Int
    let streamed: Bool
    let context: JSONValue?
    var recoveryState: RecoveryState?

    init(_ record: TurnRecord, recoveryState: RecoveryState? = nil) {
        turnID = record.id.description
        userID = record.userID
        sessionID = record.sessionID
        pageOrigin = record.pageOrigin
        userMessage = record.userMessage
        status = record.status.rawValue
        response = record.response
        errorCode = record.errorCode
        errorMessage = record.errorMessage
        startedAt = TimestampFormat.string(from: record.startedAt)
        firstTokenAt = record.firstTokenAt.map(TimestampFormat.string)
        finishedAt = record.finishedAt.map(TimestampFormat.string)
        durationMS = record.durationMS
        ttftMS = record.ttftMS
        backend = record.backend
        model = record.model
        tokensIn = record.tokensIn
        tokensOut = record.tokensOut
        usedTools = record.usedTools
        rowsSeen = record.rowsSeen
        chipCount = record.chipCount
        classifierTag = record.classifierTag
        conversationID = record.conversationID
        readerConnects = record.readerConnects
        readerResumes = record.readerResumes
        streamed = record.streamed
        context = record.contextJSON.flatMap { try? PayloadCoding.decode(JSONValue.self, from: $0) }
        self.recoveryState = recoveryState
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(turnID, forKey: .turnID)
        try container.encode(userID, forKey: .userID)
        try container.encode(sessionID, forKey: .sessionID)
        try container.encode(pageOrigin, forKey: .pageOrigin)
        try container.encode(userMessage, forKey: .userMessage)
        try container.encode(status, forKey: .status)
        try container.encode(response, forKey: .response)
        try container.encode(errorCode, forKey: .errorCode)
        try container.encode(errorMessage, forKey: .errorMessage)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(firstTokenAt, forKey: .firstTokenAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(durationMS, forKey: .durationMS)
        try container.encode(ttftMS, forKey: .ttftMS)
        try container.encode(backend, forKey: .backend)
        try container.encode(model, forKey: .model)
        try container.encode(tokensIn, forKey: .tokensIn)
        try container.encode(tokensOut, forKey: .tokensOut)
        try container.encode(usedTools, forKey: .usedTools)
        try container.encode(rowsSeen, forKey: .rowsSeen)
        try container.encode(chipCount, forKey: .chipCount)
        try container.encode(classifierTag, forKey: .classifierTag)
        try container.encode(conversationID, forKey: .conversationID)
        try container.encode(readerConnects, forKey: .readerConnects)
        try container.encode(readerResumes, forKey: .readerResumes)
        try container.encode(streamed, forKey: .streamed)
        try container.encode(context, forKey: .context)
        try container.encodeIfPresent(recoveryState, forKey: .recoveryState)
    }

    enum CodingKeys: String, CodingKey {
        case turnID = "turn_id"
        case userID = "user_id"
        case sessionID = "session_id"
        case pageOrigin = "page_origin"
        case userMessage = "user_message"
        case status, response
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case startedAt = "started_at"
        case firstTokenAt = "first_token_at"
        case finishedAt = "finished_at"
        case durationMS = "duration_ms"
        case ttftMS = "ttft_ms"
        case backend, model
        case tokensIn = "tokens_in"
        case tokensOut = "tokens_out"
        case usedTools = "used_tools"
        case rowsSeen = "rows_seen"
        case chipCount = "chip_count"
        case classifierTag = "classifier_tag"
        case conversationID = "conversation_id"
        case readerConnects = "reader_connects"
        case readerResumes = "reader_resumes"
        case streamed, context
        case recoveryState = "recovery_state"
    }
}

/// The answer to `POST /api/paliadin/turn`.
extension StartedTurn: ResponseEncodable {}

/// `{"ok": true}` and friends.
struct OKResponse: ResponseEncodable {
    let ok: Bool
}

/// The dashboard's aggregates.
struct TurnStatsView: ResponseEncodable {
    let stats: TurnStats

    func encode(to encoder: any Encoder) throws {
        try stats.encode(to: encoder)
    }
}
