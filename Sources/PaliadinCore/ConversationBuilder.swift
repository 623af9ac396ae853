/// An earlier exchange of a session, as the conversation builder takes it.
public struct PastExchange: Sendable, Equatable {
    public var userMessage: String
    public var response: String

    public init(userMessage: String, response: String) {
        self.userMessage = userMessage
        self.response = response
    }
}

/// Assembles the messages a stateless chat API gets for a turn: a system prompt carrying
/// the page context, the session's most recent earlier exchanges that fit the budget, and
/// the new message.
public struct ConversationBuilder: Sendable {
    /// The system prompt before the page context.
    public var systemPrompt: String
    /// The most characters of earlier exchanges to send along (the newest are kept).
    public var historyBudget: Int
    /// The most characters of page context to put in the system prompt.
    public var contextBudget: Int

    public init(systemPrompt: String, historyBudget: Int = 12_000, contextBudget: Int = 4_000) {
        self.systemPrompt = systemPrompt
        self.historyBudget = historyBudget
        self.contextBudget = contextBudget
    }

    /// The messages for a turn. `history` is oldest first.
    public func messages(
        userMessage: String, pageOrigin: String?, context: JSONValue?, history: [PastExchange]
    ) -> [ConversationMessage] {
        var messages: [ConversationMessage] = []
        let system = systemText(pageOrigin: pageOrigin, context: context)
        if !system.isEmpty {
            messages.append(ConversationMessage(role: .system, content: system))
        }
        var kept: [PastExchange] = []
        var used = 0
        for exchange in history.reversed() {
            let size = exchange.userMessage.count + exchange.response.count
            if used + size > historyBudget { break }
            used += size
            kept.append(exchange)
        }
        for exchange in kept.reversed() {
            messages.append(ConversationMessage(role: .user, content: exchange.userMessage))
            messages.append(ConversationMessage(role: .assistant, content: exchange.response))
        }
        messages.append(ConversationMessage(role: .user, content: userMessage))
        return messages
    }

    /// The system prompt with the page the user is on.
    public func systemText(pageOrigin: String?, context: JSONValue?) -> String {
        var parts: [String] = []
        if !systemPrompt.isEmpty { parts.append(systemPrompt) }
        if let pageOrigin, !pageOrigin.isEmpty {
            parts.append("The user is on this page: \(pageOrigin)")
        }
        if let context, context != .null {
            var text = PayloadCoding.encode(context)
            if text.count > contextBudget {
                text = String(text.prefix(contextBudget)) + "…"
            }
            parts.append("Context the page supplied (JSON): \(text)")
        }
        return parts.joined(separator: "\n\n")
    }
}
