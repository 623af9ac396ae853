import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How to run a command-line agent for one turn: the program, its arguments, how it gets the
/// prompt, where it runs, what its output looks like, and optionally the SSH host it runs on.
///
/// The configuration holds no secrets in arguments: the prompt goes to standard input by
/// default, and over SSH the extra environment travels on the connection's standard input,
/// not on a command line.
public struct CLIAgentCommand: Sendable, Equatable {
    /// What the agent writes on standard output.
    public enum Format: String, Sendable, CaseIterable {
        /// Claude Code's `--output-format stream-json --verbose`: one JSON object per line. The
        /// agent keeps the conversation; Paliadin passes its id back with the resume flag.
        case claudeStreamJSON = "claude-stream-json"
        /// Plain text: all of standard output is the answer. The agent keeps nothing, so the
        /// prompt carries the earlier exchanges.
        case text
    }

    /// How the agent gets the prompt.
    public enum PromptDelivery: Sendable, Equatable {
        /// Written to standard input, which is then closed.
        case standardInput
        /// Passed as the last argument, after `endOfOptions` (when not nil) so that a message
        /// starting with `-` cannot be taken for an option.
        case finalArgument(endOfOptions: String? = "--")
    }

    /// Where the system text (system prompt and page context) goes.
    public enum SystemTextDelivery: Sendable, Equatable {
        /// At the head of the prompt.
        case inPrompt
        /// As the value of this option, e.g. `--append-system-prompt` (it is then visible in
        /// the process list).
        case argument(String)
        /// Not sent.
        case omitted
    }

    /// The program: a path, or a name looked up in `PATH` (on the remote host over SSH).
    public var executable: String
    /// The arguments before the ones Paliadin adds (resume flag, system text, prompt).
    public var arguments: [String]
    /// What the agent writes on standard output.
    public var format: Format
    /// How the agent gets the prompt.
    public var prompt: PromptDelivery
    /// Where the system text goes.
    public var systemText: SystemTextDelivery
    /// Where the agent runs; nil keeps Paliadin's (over SSH: the remote login directory).
    public var workingDirectory: String?
    /// Variables set for the agent on top of the inherited environment (over SSH: on the
    /// remote host; names are `[A-Za-z_][A-Za-z0-9_]*`, values one line).
    public var environment: [String: String]
    /// Variables of Paliadin's own environment the agent (or the local `ssh`) must not get;
    /// a name ending in `*` drops every variable with that prefix (`PALIADIN_*`).
    public var removedEnvironment: [String]
    /// The option that resumes a conversation (`--resume <id>`); only for `claude-stream-json`;
    /// empty when the agent cannot resume (it then gets the transcript every turn).
    public var resumeFlag: String
    /// Run the agent on another host through `ssh`.
    public var ssh: SSH?

    /// A command; only the executable is required.
    public init(
        executable: String, arguments: [String] = [], format: Format = .text, prompt: PromptDelivery = .standardInput,
        systemText: SystemTextDelivery = .inPrompt, workingDirectory: String? = nil, environment: [String: String] = [:],
        removedEnvironment: [String] = [], resumeFlag: String = "--resume", ssh: SSH? = nil
    ) {
        self.executable = executable
        self.arguments = arguments
        self.format = format
        self.prompt = prompt
        self.systemText = systemText
        self.workingDirectory = workingDirectory
        self.environment = environment
        self.removedEnvironment = removedEnvironment
        self.resumeFlag = resumeFlag
        self.ssh = ssh
    }

    /// Claude Code in print mode with streamed JSON, partial messages included:
    /// `claude -p --output-format stream-json --verbose --include-partial-messages`, prompt on
    /// standard input.
    public static func claudeCode(executable: String = "claude", extraArguments: [String] = []) -> CLIAgentCommand {
        CLIAgentCommand(
            executable: executable,
            arguments: ["-p", "--output-format", "stream-json", "--verbose", "--include-partial-messages"] + extraArguments,
            format: .claudeStreamJSON)
    }

    /// A configuration this type cannot run.
    public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        /// What is wrong, for the operator.
        public var message: String
        public var description: String { message }
    }

    /// Checks the configuration without running anything (the same checks every turn makes).
    public func validate() throws(ConfigurationError) {
        _ = try invocation(prompt: "", systemText: nil, conversationID: nil, parentEnvironment: [:])
    }

    /// The process to start for a turn.
    ///
    /// - Parameters:
    ///   - prompt: the prompt text (see `CLIAgentBackend.prompt(for:command:resuming:)`).
    ///   - systemText: the system text, for `SystemTextDelivery.argument`.
    ///   - conversationID: the agent's conversation to resume (`claude-stream-json` only).
    ///   - parentEnvironment: the environment the agent would inherit, to resolve `removedEnvironment` patterns.
    public func invocation(
        prompt: String, systemText: String?, conversationID: String?,
        parentEnvironment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> CLIAgentInvocation {
        guard !executable.isEmpty else { throw ConfigurationError(message: "the agent command has no executable") }
        var argv = [executable] + arguments
        if format == .claudeStreamJSON, !resumeFlag.isEmpty, let conversationID {
            argv += [resumeFlag, conversationID]
        }
        if case .argument(let flag) = self.systemText, let systemText, !systemText.isEmpty {
            argv += [flag, systemText]
        }
        var input = Array(prompt.utf8)
        if case .finalArgument(let endOfOptions) = self.prompt {
            argv += (endOfOptions.map { [$0] } ?? []) + [prompt]
            input = []
        }
        let removed = Self.removedNames(removedEnvironment, from: parentEnvironment)
        guard let ssh else {
            for name in environment.keys { try Self.check(name: name) }
            var environment = removed.reduce(into: [String: String?]()) { $0[$1] = .some(nil) }
            for (name, value) in self.environment { environment[name] = value }
            return CLIAgentInvocation(
                executable: executable, arguments: Array(argv.dropFirst()), environment: environment,
                workingDirectory: workingDirectory, standardInput: input, keepsStandardInputOpen: false)
        }
        guard !ssh.executable.isEmpty else { throw ConfigurationError(message: "the ssh client has no executable") }
        let preamble = try SSH.preamble(environment: environment, promptBytes: input.count)
        return CLIAgentInvocation(
            executable: ssh.executable,
            arguments: try ssh.arguments(remoteCommand: ssh.remoteCommand(argv, workingDirectory: workingDirectory)),
            environment: removed.reduce(into: [String: String?]()) { $0[$1] = .some(nil) },
            workingDirectory: nil, standardInput: preamble + input, keepsStandardInputOpen: true)
    }

    /// The names of `parentEnvironment` the patterns drop.
    static func removedNames(_ patterns: [String], from parentEnvironment: [String: String]) -> [String] {
        var names: Set<String> = []
        for pattern in patterns where !pattern.isEmpty {
            if pattern.hasSuffix("*") {
                let prefix = pattern.dropLast()
                names.formUnion(parentEnvironment.keys.filter { $0.hasPrefix(prefix) })
            } else {
                names.insert(pattern)
            }
        }
        return names.sorted()
    }

    /// Environment names as POSIX shells accept them.
    static func check(name: String) throws(ConfigurationError) {
        let bytes = Array(name.utf8)
        let valid = !bytes.isEmpty && !(0x30...0x39).contains(bytes[0]) && bytes.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        }
        guard valid else { throw ConfigurationError(message: "\"\(name)\" is not a valid environment variable name") }
    }
}

/// The process a turn starts, as `CLIAgentCommand.invocation(...)` resolves it.
public struct CLIAgentInvocation: Sendable, Equatable {
    /// A path, or a name looked up in `PATH`.
    public var executable: String
    /// The arguments after the executable.
    public var arguments: [String]
    /// Changes to the inherited environment: a value sets the variable, nil removes it.
    public var environment: [String: String?]
    /// Where the process starts; nil keeps Paliadin's.
    public var workingDirectory: String?
    /// What is written to the agent's standard input.
    public var standardInput: [UInt8]
    /// True when standard input stays open after `standardInput` until the process ends (the
    /// SSH wrapper takes its end as the signal to stop the remote agent).
    public var keepsStandardInputOpen: Bool
}

extension CLIAgentCommand {
    /// Runs the agent on another host: `ssh … user@host -- <remote command>`.
    ///
    /// The remote command is one shell-quoted string (`ssh` hands it to the remote login
    /// shell). It starts a small POSIX `sh` wrapper that reads, from the connection's standard
    /// input, the extra environment and the prompt (length-prefixed), starts the agent with
    /// the prompt as its standard input, and then keeps reading standard input. Paliadin keeps
    /// that input open for the whole turn; when the local `ssh` is stopped (the turn is
    /// cancelled), the connection closes, the wrapper reads end-of-file and stops the remote
    /// session's whole process group (`SIGTERM`, then `SIGKILL` after `remoteKillGrace`).
    /// `sshd` starts each session's command in a session of its own, so that group is the
    /// agent and everything it started (the wrapper checks that it leads its group, and
    /// otherwise stops the agent alone). When the agent ends by itself, what it left running
    /// in the group gets `SIGTERM`. Without a terminal (`-T`) the output keeps its line
    /// endings and standard error stays apart (`-tt` would hang up the remote side by itself,
    /// but a pseudo-terminal turns `\n` into `\r\n`, merges standard error into the output,
    /// echoes the prompt and limits input lines).
    public struct SSH: Sendable, Equatable {
        /// The host name or address (letters, digits, `.`, `-`, `_`, `:`).
        public var host: String
        /// The remote user; nil leaves it to `ssh` (its configuration, or the local user name).
        public var user: String?
        /// The port; nil leaves it to `ssh`.
        public var port: Int?
        /// The private key (`-i`, with `IdentitiesOnly=yes`).
        public var identityFile: String?
        /// The known hosts file; host keys are always checked strictly.
        public var knownHostsFile: String?
        /// More `ssh` arguments, placed before the destination (e.g. `["-o", "ServerAliveInterval=15"]`).
        public var extraOptions: [String]
        /// The folder of the connection-sharing sockets (`ControlPath=<folder>/%C`); nil is
        /// `/tmp/paliadin-ssh-<uid>`, created private to this user.
        public var controlDirectory: String?
        /// Seconds an idle shared connection stays open (`ControlPersist`); nil turns sharing off.
        public var controlPersist: Int?
        /// The `ssh` client.
        public var executable: String
        /// Seconds the remote wrapper waits between `SIGTERM` and `SIGKILL` once the connection is gone.
        public var remoteKillGrace: Int

        /// A host to reach; everything else has a default.
        public init(
            host: String, user: String? = nil, port: Int? = nil, identityFile: String? = nil, knownHostsFile: String? = nil,
            extraOptions: [String] = [], controlDirectory: String? = nil, controlPersist: Int? = 60, executable: String = "ssh",
            remoteKillGrace: Int = 2
        ) {
            self.host = host
            self.user = user
            self.port = port
            self.identityFile = identityFile
            self.knownHostsFile = knownHostsFile
            self.extraOptions = extraOptions
            self.controlDirectory = controlDirectory
            self.controlPersist = controlPersist
            self.executable = executable
            self.remoteKillGrace = remoteKillGrace
        }

        /// The connection-sharing folder in use, or nil when sharing is off.
        public var effectiveControlDirectory: String? {
            guard controlPersist != nil else { return nil }
            return controlDirectory ?? "/tmp/paliadin-ssh-\(getuid())"
        }

        /// The arguments of `ssh` for one turn.
        func arguments(remoteCommand: String) throws(ConfigurationError) -> [String] {
            try Self.check(word: host, what: "ssh host", allowed: ".-_:")
            if let user { try Self.check(word: user, what: "ssh user", allowed: ".-_") }
            if let port, !(1...65535).contains(port) { throw ConfigurationError(message: "ssh port \(port) is out of range") }
            var arguments = ["-T", "-o", "BatchMode=yes"]
            if let identityFile {
                try Self.check(path: identityFile, what: "ssh identity file")
                arguments += ["-o", "IdentitiesOnly=yes", "-i", identityFile]
            }
            if let knownHostsFile {
                try Self.check(path: knownHostsFile, what: "ssh known hosts file")
                arguments += ["-o", "UserKnownHostsFile=\(knownHostsFile)"]
            }
            arguments += ["-o", "StrictHostKeyChecking=yes"]
            if let controlPersist, let folder = effectiveControlDirectory {
                try Self.check(path: folder, what: "ssh control folder")
                arguments += [
                    "-o", "ControlMaster=auto", "-o", "ControlPath=\(folder)/%C", "-o", "ControlPersist=\(max(1, controlPersist))",
                ]
            }
            if let port { arguments += ["-p", String(port)] }
            arguments += extraOptions
            arguments += [user.map { "\($0)@\(host)" } ?? host, "--", remoteCommand]
            return arguments
        }

        /// The remote command line: the wrapper, then the agent's words, each quoted.
        func remoteCommand(_ argv: [String], workingDirectory: String?) -> String {
            var folder = workingDirectory ?? ""
            if folder.hasPrefix("-") { folder = "./" + folder }
            let words = ["exec", "/bin/sh", "-c", Self.wrapperScript(killGrace: max(0, remoteKillGrace)), "paliadin-agent", folder] + argv
            return words.map(Self.quote).joined(separator: " ")
        }

        /// What the wrapper reads first from standard input: the number of variables, one
        /// `NAME=value` line each, then the prompt's length in bytes (the prompt follows).
        static func preamble(environment: [String: String], promptBytes: Int) throws(ConfigurationError) -> [UInt8] {
            var text = "\(environment.count)\n"
            for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
                try CLIAgentCommand.check(name: name)
                guard !value.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
                    throw ConfigurationError(message: "the value of \(name) must be one line to be sent over ssh")
                }
                text += "\(name)=\(value)\n"
            }
            text += "\(promptBytes)\n"
            return Array(text.utf8)
        }

        /// The remote wrapper (POSIX `sh`, one line). Its arguments: the working folder (empty
        /// for none), then the agent's command. See the type's documentation.
        static func wrapperScript(killGrace: Int) -> String {
            [
                #"d=$1; shift"#,
                #"IFS= read -r n || exit 125"#,
                #"i=0; while [ "$i" -lt "$n" ]; do IFS= read -r kv || exit 125; export "$kv" || exit 125; i=$((i+1)); done"#,
                #"IFS= read -r len || exit 125"#,
                #"if [ -n "$d" ]; then cd "$d" || exit 125; fi"#,
                #"t=$(mktemp) || exit 125"#,
                #"head -c "$len" >"$t" || { rm -f "$t"; exit 125; }"#,
                #"exec 3<"$t" 4<&0; rm -f "$t""#,
                #""$@" <&3 3<&- 4<&- & a=$!"#,
                #"exec 3<&-"#,
                // The whole group when this shell leads it (sshd starts each session's command
                // in a new session), else the agent alone: never a group that is not ours.
                #"k=$a; [ "$(ps -o pgid= -p $$ 2>/dev/null | tr -d ' ')" = "$$" ] && k=0"#,
                #"( cat >/dev/null; trap "" TERM; kill -TERM $k; sleep "# + String(killGrace)
                    + #"; kill -KILL $k ) <&4 >/dev/null 2>&1 & w=$!; exec 4<&-"#,
                #"wait "$a"; s=$?; kill "$w" 2>/dev/null"#,
                #"if [ "$k" = 0 ]; then trap "" TERM; kill -TERM 0 2>/dev/null; fi; exit "$s""#,
            ].joined(separator: "; ")
        }

        /// `word` as one word for a POSIX shell: bare when it holds only characters no shell
        /// treats specially, otherwise in single quotes (a `'` inside becomes `'\''`).
        public static func quote(_ word: String) -> String {
            let plain = !word.isEmpty && word.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: ","),
                    UInt8(ascii: "+"), UInt8(ascii: "-"):
                    true
                default: false
                }
            }
            return plain ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }

        /// Host and user names: letters, digits and `allowed`; never a leading `-` (it would be an option).
        static func check(word: String, what: String, allowed: String) throws(ConfigurationError) {
            let valid = !word.isEmpty && !word.hasPrefix("-") && word.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || allowed.contains($0) }
            guard valid else { throw ConfigurationError(message: "\(what) \"\(word)\" is not allowed") }
        }

        /// Paths `ssh` reads in its own option syntax, where spaces split values, quotes are
        /// syntax and `%` starts a token: none of them, and no leading `-`.
        static func check(path: String, what: String) throws(ConfigurationError) {
            let valid = !path.isEmpty && !path.hasPrefix("-") && !path.contains { $0.isWhitespace || "%\"'\\".contains($0) }
            guard valid else { throw ConfigurationError(message: "\(what) \"\(path)\" must not be empty or hold spaces, quotes or %") }
        }
    }
}
