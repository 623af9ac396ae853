import Foundation
import PaliadinCore
import Synchronization

/// What a running turn has gathered so far, shared by its backend pump and its watch.
struct TurnProgress {
    var watch: TurnWatch
    var response = ""
    var firstContent: Duration?
    var usedTools: [String] = []
    var rowsSeen: [Int] = []
    var chipCount = 0
    var classifierTag = ""
    var conversationID: String?
    var tokensIn: Int?
    var tokensOut: Int?

    init(watch: TurnWatch) {
        self.watch = watch
    }

    mutating func apply(_ meta: BackendMeta) {
        if let usedTools = meta.usedTools { self.usedTools = usedTools }
        if let rowsSeen = meta.rowsSeen { self.rowsSeen = rowsSeen }
        if let chipCount = meta.chipCount { self.chipCount = chipCount }
        if let classifierTag = meta.classifierTag { self.classifierTag = classifierTag }
    }
}

/// A turn's progress behind a lock, shared by the tasks of its runner.
final class SharedProgress: Sendable {
    private let state: Mutex<TurnProgress>

    init(_ progress: TurnProgress) {
        self.state = Mutex(progress)
    }

    func withLock<Result>(_ body: (inout TurnProgress) -> Result) -> Result {
        state.withLock { body(&$0) }
    }
}
