/// The prompt's input: the next line or the next Ctrl-C, whichever comes first, losing
/// neither. When both come in the same moment, the Ctrl-C counts first and the line is kept
/// for the next call (as its `LineSource` keeps a line nobody took).
struct PromptReader<Lines: LineSource>: Sendable {
    let lines: Lines
    let interrupts: Interrupts
    /// Input that came together with a Ctrl-C: the next calls' answers, oldest first.
    private var kept: [PromptInput] = []

    init(lines: Lines, interrupts: Interrupts) {
        self.lines = lines
        self.interrupts = interrupts
    }

    /// The next line, the end of input, or a Ctrl-C not taken by anyone before.
    mutating func next() async -> PromptInput {
        if !kept.isEmpty { return kept.removeFirst() }
        let lines = self.lines
        let interrupts = self.interrupts
        let arrived = await withTaskGroup(of: PromptInput?.self) { group in
            group.addTask {
                do {
                    return try await lines.nextLine().map(PromptInput.line) ?? .endOfInput
                } catch let error as InputLineTooLong {
                    return .tooLong(limit: error.limit)
                } catch {
                    // Cancelled because Ctrl-C came first (the line stays in `lines`); any
                    // other failure of the input ends it.
                    return error is CancellationError ? nil : .endOfInput
                }
            }
            group.addTask { await interrupts.next() ? .interrupt : nil }
            var arrived: [PromptInput] = []
            while arrived.isEmpty, let next = await group.next() {
                if let next { arrived.append(next) }
            }
            group.cancelAll()
            // What the other task got before it saw the cancellation counts too.
            for await next in group {
                if let next { arrived.append(next) }
            }
            return arrived
        }
        guard arrived.contains(.interrupt) else { return arrived.first ?? .endOfInput }
        kept = arrived.filter { $0 != .interrupt }
        return .interrupt
    }
}
