import Foundation
import Logging
import PaliadinCore
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A backend that runs a command-line agent (Claude Code, or any program that answers on
/// standard output) once per turn, locally or over SSH, and streams what it writes.
///
/// The agent starts in a session of its own. When the turn's task is cancelled (stop, silence,
/// deadline) its whole process group gets `SIGTERM`, then `SIGKILL` after `Limits.killGrace`;
/// whatever the agent leaves running when it ends is killed too, and the agent is reaped.
/// Standard error is read all along (only its tail is kept, for the failure message).
///
/// The first turn sets `SIGPIPE` to ignored for the whole process, so that writing a prompt
/// to an agent that exits without reading it fails with `EPIPE` instead of ending Paliadin.
public struct CLIAgentBackend: ChatBackend {
    /// Bounds on what a turn may take.
    public struct Limits: Sendable, Equatable {
        /// The longest line of `claude-stream-json` output accepted; a longer one fails the turn.
        public var maxLineLength: Int
        /// Bytes of the end of standard error kept for a failure message.
        public var stderrTail: Int
        /// How long the agent may take to exit after its output ends (or after its final
        /// `result` line) before it is stopped.
        public var exitGrace: Duration
        /// Time between `SIGTERM` and `SIGKILL` when the agent is stopped.
        public var killGrace: Duration
        /// The least time between two heartbeats passed on (activity lines come in bursts).
        public var heartbeatInterval: Duration

        /// The defaults suit Claude Code; tests shrink the durations.
        public init(
            maxLineLength: Int = 4 << 20, stderrTail: Int = 2048, exitGrace: Duration = .seconds(5), killGrace: Duration = .seconds(2),
            heartbeatInterval: Duration = .seconds(2)
        ) {
            self.maxLineLength = maxLineLength
            self.stderrTail = stderrTail
            self.exitGrace = exitGrace
            self.killGrace = killGrace
            self.heartbeatInterval = heartbeatInterval
        }
    }

    /// The backend's name in the audit row and the stats (`cli` unless configured).
    public let name: String
    /// The model name for the stats.
    public let model: String
    /// Both formats stream their output, so the silence limit applies.
    public let mode = TurnWatch.Mode.streaming
    /// True for `claude-stream-json`: the agent keeps the conversation and gets only the new
    /// message when Paliadin has its conversation id.
    public let keepsConversation: Bool
    /// What each turn runs.
    public let command: CLIAgentCommand
    /// Bounds on each turn.
    public let limits: Limits
    private let logger: Logger

    /// - Parameters:
    ///   - command: what to run.
    ///   - name: the backend's name in the audit row and the stats.
    ///   - model: the model name for the stats; nil is the executable's name.
    ///   - limits: bounds on each turn.
    ///   - logger: where skipped output and odd exits are reported.
    public init(
        command: CLIAgentCommand, name: String = "cli", model: String? = nil, limits: Limits = Limits(),
        logger: Logger = Logger(label: "paliadin.backend.cli")
    ) {
        self.command = command
        self.name = name
        self.model = model ?? String(command.executable.split(separator: "/").last ?? "agent")
        self.keepsConversation = command.format == .claudeStreamJSON
        self.limits = limits
        self.logger = logger
    }

    public func runTurn(_ request: BackendTurnRequest, events: @Sendable (BackendEvent) async -> Void) async throws {
        let invocation = try makeInvocation(for: request)
        _ = ProcessGroupKiller.brokenPipesIgnored
        var platformOptions = PlatformOptions()
        platformOptions.createSession = true
        // On cancellation swift-subprocess tears the agent down too, alongside `supervise`:
        // that teardown must reach the whole group as well.
        platformOptions.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: limits.killGrace)]
        let report: RunReport
        let status: TerminationStatus
        do {
            let result = try await Subprocess.run(
                Self.executable(invocation.executable), arguments: Arguments(invocation.arguments),
                environment: Self.environment(invocation.environment), workingDirectory: invocation.workingDirectory.map { FilePath($0) },
                platformOptions: platformOptions, input: .inputWriter, output: .sequence, error: .sequence
            ) { execution in
                try await supervise(execution, invocation: invocation, events: events)
            }
            report = result.closureResult
            status = result.terminationStatus
        } catch let error as SubprocessError {
            try Task.checkCancellation()
            throw launchFailure(error, invocation: invocation)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            try Task.checkCancellation()
            throw BackendFailure(code: TurnErrorCode.upstreamError, message: "running the agent failed: \(error)", retryable: true)
        }
        try Task.checkCancellation()
        if let cost = report.costUSD {
            logger.debug(
                "the agent reported its cost", metadata: ["turn": "\(request.turnID)", "cost_usd": "\(cost)", "duration_ms": "\(report.durationMS ?? 0)"])
        }
        if report.skippedLines > 0 {
            logger.warning("the agent wrote lines that are not JSON; skipped", metadata: ["turn": "\(request.turnID)", "lines": "\(report.skippedLines)"])
        }
        if let failure = judge(report, status: status) {
            throw failure
        }
        if !status.isSuccess {
            logger.notice("the agent answered but exited with \(status)", metadata: ["turn": "\(request.turnID)"])
        }
    }

    // MARK: - Before the run

    private func makeInvocation(for request: BackendTurnRequest) throws(BackendFailure) -> CLIAgentInvocation {
        var conversationID = keepsConversation && !command.resumeFlag.isEmpty ? request.conversationID : nil
        if let id = conversationID, !Self.isSafeConversationID(id) {
            logger.warning("ignoring a conversation id that is not a plain token; starting afresh", metadata: ["turn": "\(request.turnID)"])
            conversationID = nil
        }
        let (prompt, systemText) = Self.prompt(for: request.messages, command: command, resuming: conversationID != nil)
        do {
            if let folder = command.ssh?.effectiveControlDirectory {
                try Self.preparePrivateFolder(folder)
            }
            return try command.invocation(prompt: prompt, systemText: systemText, conversationID: conversationID)
        } catch {
            throw BackendFailure(code: TurnErrorCode.backendUnavailable, message: "the agent is misconfigured: \(error.message)", retryable: false)
        }
    }

    /// The prompt and the system text for a turn. When the agent resumes its own conversation
    /// the prompt is the new message alone; otherwise it is the earlier exchanges as a plain
    /// transcript (`User:` / `Assistant:`) ending with the new message. The system text leads
    /// the prompt when `SystemTextDelivery.inPrompt`.
    public static func prompt(
        for messages: [ConversationMessage], command: CLIAgentCommand, resuming: Bool
    ) -> (prompt: String, systemText: String?) {
        let system = messages.filter { $0.role == .system && !$0.content.isEmpty }.map(\.content).joined(separator: "\n\n")
        let exchange = messages.filter { $0.role != .system }
        let earlier = resuming ? [] : exchange.dropLast()
        var parts: [String] = []
        if command.systemText == .inPrompt, !system.isEmpty { parts.append(system) }
        for message in earlier {
            parts.append("\(message.role == .user ? "User" : "Assistant"): \(message.content)")
        }
        if let last = exchange.last {
            parts.append(earlier.isEmpty ? last.content : "User: \(last.content)")
        }
        return (parts.joined(separator: "\n\n"), system.isEmpty ? nil : system)
    }

    /// Conversation ids go on the agent's command line: letters, digits, `.`, `_`, `:`, `-`, not leading `-`.
    static func isSafeConversationID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 200 && !id.hasPrefix("-") && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._:-".contains($0)) }
    }

    /// Creates `path` for `ssh`'s sockets, readable by this user only, or checks that it is so.
    static func preparePrivateFolder(_ path: String) throws(CLIAgentCommand.ConfigurationError) {
        if mkdir(path, 0o700) != 0, errno != EEXIST {
            throw CLIAgentCommand.ConfigurationError(message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid(), info.st_mode & 0o077 == 0 else {
            throw CLIAgentCommand.ConfigurationError(message: "\(path) must be a folder of this user that no one else can open")
        }
    }

    private static func executable(_ executable: String) -> Executable {
        executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
    }

    private static func environment(_ changes: [String: String?]) -> Subprocess.Environment {
        var updates: [Subprocess.Environment.Key: String?] = [:]
        for (name, value) in changes {
            if let key = Subprocess.Environment.Key(rawValue: name) { updates[key] = value }
        }
        return .inherit.updating(updates)
    }

    // MARK: - The run

    /// What a run showed, for the verdict once the process is reaped.
    struct RunReport: Sendable {
        var failure: BackendFailure?
        var answered = false
        var stderrTail: [UInt8] = []
        /// The agent ended its output but did not exit by itself.
        var lingered = false
        var skippedLines = 0
        /// What Claude Code's `result` line said the turn cost.
        var costUSD: Double?
        var durationMS: Double?
    }

    private enum SideResult: Sendable {
        case stderr([UInt8])
        case done
    }

    /// Feeds the prompt, reads standard error on the side and standard output here, passes
    /// events on, and leaves only when the agent has exited (stopping it when it must) and
    /// its group is gone. Throws only `CancellationError`.
    private func supervise(
        _ execution: Execution<CustomWriteInput, SequenceOutput, SequenceOutput>, invocation: CLIAgentInvocation,
        events: @Sendable (BackendEvent) async -> Void
    ) async throws -> RunReport {
        let pid = execution.processIdentifier.value
        let limits = self.limits
        return try await withThrowingTaskGroup(of: SideResult.self) { group in
            group.addTask {
                await Self.feed(execution.standardInputWriter, invocation: invocation)
                return .done
            }
            group.addTask { .stderr(await Self.tail(of: execution.standardError, limit: limits.stderrTail)) }

            var reader = OutputReader(format: command.format, limits: limits)
            var watching = false
            do {
                for try await buffer in execution.standardOutput {
                    let arrived = buffer.withUnsafeBytes { reader.consume($0) }
                    for event in arrived { await events(event) }
                    if reader.failure != nil { break }
                    if reader.settled, !watching {
                        // The answer is complete: the agent has `exitGrace` to finish by itself.
                        watching = true
                        group.addTask {
                            guard (try? await Task.sleep(for: limits.exitGrace)) != nil else { return .done }
                            await ProcessGroupKiller.terminate(group: pid, grace: limits.killGrace)
                            return .done
                        }
                    }
                }
                if reader.failure == nil {
                    for event in reader.finish() { await events(event) }
                }
            } catch {
                if !Task.isCancelled {
                    reader.failure = BackendFailure(
                        code: TurnErrorCode.upstreamError, message: "reading the agent's output failed: \(error)", retryable: true)
                }
            }

            var report = RunReport()
            if Task.isCancelled {
                await ProcessGroupKiller.terminate(group: pid, grace: limits.killGrace)
                throw CancellationError()
            } else if reader.failure != nil {
                await ProcessGroupKiller.terminate(group: pid, grace: limits.killGrace)
            } else if await !ProcessGroupKiller.waitForExit(pid, upTo: limits.exitGrace) {
                report.lingered = !Task.isCancelled
                await ProcessGroupKiller.terminate(group: pid, grace: limits.killGrace)
                try Task.checkCancellation()
            }
            // The leader has exited and is not reaped yet: the group id is still the agent's.
            ProcessGroupKiller.send(SIGKILL, toGroup: pid)
            for try await side in group {
                if case .stderr(let tail) = side {
                    report.stderrTail = tail
                    break
                }
            }
            group.cancelAll()
            report.failure = reader.failure ?? reader.resultFailure
            report.answered = reader.answered
            report.skippedLines = reader.skippedLines
            report.costUSD = reader.costUSD
            report.durationMS = reader.durationMS
            return report
        }
    }

    /// Writes the prompt; closes standard input unless the invocation keeps it open.
    private static func feed(_ writer: StandardInputWriter, invocation: CLIAgentInvocation) async {
        do {
            if !invocation.standardInput.isEmpty {
                _ = try await writer.write(invocation.standardInput)
            }
            if !invocation.keepsStandardInputOpen {
                try await writer.finish()
            }
        } catch {
            // The agent does not read its input (it exited, or never reads it): nothing to add.
            try? await writer.finish()
        }
    }

    /// Reads a stream to its end, keeping its last `limit` bytes.
    private static func tail(of stream: SubprocessOutputSequence, limit: Int) async -> [UInt8] {
        let limit = max(0, limit)
        var kept: [UInt8] = []
        do {
            for try await buffer in stream {
                buffer.withUnsafeBytes { kept.append(contentsOf: $0) }
                if kept.count > 2 * limit + 4096 { kept.removeFirst(kept.count - limit) }
            }
        } catch {
            // The stream ended early (cancelled): keep what came.
        }
        return Array(kept.suffix(limit))
    }

    // MARK: - The verdict

    /// The failure the run ended with, or nil for an answer.
    func judge(_ report: RunReport, status: TerminationStatus) -> BackendFailure? {
        if let failure = report.failure { return failure }
        if command.format == .claudeStreamJSON {
            if report.answered { return nil }
            if status.isSuccess {
                return BackendFailure(
                    code: TurnErrorCode.upstreamError, message: "the agent ended before the answer was complete" + Self.detail(report.stderrTail),
                    retryable: true)
            }
        } else if status.isSuccess {
            return nil
        }
        return exitFailure(status, report: report)
    }

    private func exitFailure(_ status: TerminationStatus, report: RunReport) -> BackendFailure {
        let detail = Self.detail(report.stderrTail)
        switch status {
        case .exited(127):
            return BackendFailure(
                code: TurnErrorCode.backendUnavailable, message: "the agent's command was not found (exit status 127)" + detail, retryable: true)
        case .exited(255) where command.ssh != nil:
            let host = command.ssh?.host ?? ""
            return BackendFailure(
                code: TurnErrorCode.backendUnavailable, message: "could not run the agent on \(host) over ssh (exit status 255)" + detail,
                retryable: true)
        case .exited(let code):
            return BackendFailure(code: TurnErrorCode.upstreamError, message: "the agent exited with status \(code)" + detail, retryable: true)
        case .signaled(let signal):
            let what = report.lingered ? "the agent ended its output but did not exit, and was stopped" : "the agent was killed by signal \(signal)"
            return BackendFailure(code: TurnErrorCode.upstreamError, message: what + detail, retryable: true)
        }
    }

    private func launchFailure(_ error: SubprocessError, invocation: CLIAgentInvocation) -> BackendFailure {
        if error.code == .failedToChangeWorkingDirectory {
            return BackendFailure(
                code: TurnErrorCode.backendUnavailable,
                message: "could not start the agent in \(invocation.workingDirectory ?? "its folder"): \(error)", retryable: false)
        }
        let code = error.code == .executableNotFound || error.code == .spawnFailed ? TurnErrorCode.backendUnavailable : TurnErrorCode.upstreamError
        return BackendFailure(code: code, message: "could not start the agent \(invocation.executable): \(error)", retryable: true)
    }

    /// `": <the end of standard error>"`, or nothing when it is empty. Line ends become `\n`
    /// (the OpenSSH client ends every line it writes on standard error with `\r\n`).
    static func detail(_ stderrTail: [UInt8]) -> String {
        // Start at a character boundary: skip UTF-8 continuation bytes cut by the tail.
        let start = stderrTail.firstIndex { $0 & 0xC0 != 0x80 } ?? stderrTail.endIndex
        let text = String(decoding: stderrTail[start...], as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "" : ": " + text
    }
}

extension CLIAgentBackend {
    /// Turns each read of standard output into events: text as it comes (never splitting a
    /// UTF-8 character), or decoded `claude-stream-json` lines. Chunks of one read are joined,
    /// and heartbeats are passed on at most once per `heartbeatInterval`.
    struct OutputReader {
        let format: CLIAgentCommand.Format
        let heartbeatInterval: Duration
        private var lines: ClaudeStreamJSON.LineSplitter
        private var stream = ClaudeStreamJSON()
        /// Text format: the bytes of a character the read cut.
        private var carry: [UInt8] = []
        private var lastPassedOn: ContinuousClock.Instant?
        /// Why the output cannot be used (set once; nothing more is read).
        var failure: BackendFailure?

        init(format: CLIAgentCommand.Format, limits: Limits) {
            self.format = format
            self.heartbeatInterval = limits.heartbeatInterval
            self.lines = ClaudeStreamJSON.LineSplitter(maxLineLength: limits.maxLineLength)
        }

        /// A `result` line (or a rejection) ended the turn.
        var settled: Bool { stream.outcome != nil }
        var answered: Bool { stream.outcome == .answered }
        var resultFailure: BackendFailure? {
            if case .failed(let failure) = stream.outcome { failure } else { nil }
        }
        var skippedLines: Int { stream.skippedLines }
        var costUSD: Double? { stream.costUSD }
        var durationMS: Double? { stream.durationMS }

        mutating func consume(_ bytes: UnsafeRawBufferPointer) -> [BackendEvent] {
            guard failure == nil else { return [] }
            switch format {
            case .text:
                carry.append(contentsOf: bytes)
                let complete = Self.completeLength(carry)
                let text = String(decoding: carry[..<complete], as: UTF8.self)
                carry.removeFirst(complete)
                return pace(text.isEmpty ? [] : [.chunk(text)])
            case .claudeStreamJSON:
                var arrived: [BackendEvent] = []
                do {
                    for line in try lines.feed(bytes) {
                        arrived += try stream.decode(line)
                    }
                } catch {
                    failure = Self.failure(error)
                }
                return pace(arrived)
            }
        }

        /// What remains when the output has ended.
        mutating func finish() -> [BackendEvent] {
            guard failure == nil else { return [] }
            switch format {
            case .text:
                defer { carry = [] }
                return carry.isEmpty ? [] : [.chunk(String(decoding: carry, as: UTF8.self))]
            case .claudeStreamJSON:
                guard let line = lines.finish() else { return [] }
                do {
                    return pace(try stream.decode(line))
                } catch {
                    failure = error
                    return []
                }
            }
        }

        private static func failure(_ error: any Error) -> BackendFailure {
            if let failure = error as? BackendFailure { return failure }
            let limit = (error as? ClaudeStreamJSON.LineSplitter.LineTooLong)?.limit ?? 0
            return BackendFailure(
                code: TurnErrorCode.upstreamError, message: "the agent wrote a line longer than \(limit) bytes", retryable: false)
        }

        /// Joins adjacent chunks and drops heartbeats that come too soon after anything passed on.
        private mutating func pace(_ events: [BackendEvent]) -> [BackendEvent] {
            var paced: [BackendEvent] = []
            let now = ContinuousClock.now
            for event in events {
                switch event {
                case .heartbeat:
                    if let lastPassedOn, now - lastPassedOn < heartbeatInterval { continue }
                    if paced.last == .heartbeat { continue }
                case .chunk(let text):
                    if case .chunk(let before)? = paced.last {
                        paced[paced.count - 1] = .chunk(before + text)
                        continue
                    }
                default:
                    break
                }
                paced.append(event)
                lastPassedOn = now
            }
            return paced
        }

        /// How many leading bytes of `bytes` end on a character boundary: an incomplete
        /// multi-byte character at the end waits for the next read.
        static func completeLength(_ bytes: [UInt8]) -> Int {
            var index = bytes.count - 1
            while index >= 0, bytes.count - index < 4, bytes[index] & 0xC0 == 0x80 { index -= 1 }
            guard index >= 0 else { return bytes.count }
            let lead = bytes[index]
            let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
            return bytes.count - index < length ? index : bytes.count
        }
    }
}
