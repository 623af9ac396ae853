import Foundation
import Logging
import PaliadinServer
import Synchronization
import Testing

@Suite("Configuration: file, environment, flags")
struct ConfigurationTests {
    /// Writes `text` to a new temporary file and returns its path.
    static func file(_ text: String, name: String = "paliadin.yaml") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("paliadin-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Loads as `paliadin serve` would with these arguments and environment.
    static func load(_ arguments: [String], environment: [String: String] = [:]) throws -> ConfigurationLoader.Loaded {
        try ServerOptions.parse(arguments).load(environment: environment)
    }

    /// The problems of a configuration that must not load.
    static func problems(_ arguments: [String], environment: [String: String] = [:]) -> [String] {
        do {
            _ = try load(arguments, environment: environment)
            Issue.record("the configuration loaded")
            return []
        } catch let error as ConfigurationError {
            return error.problems
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    @Test("a flag wins over the environment, which wins over the file, which wins over the default")
    func precedence() throws {
        let path = try Self.file(
            """
            listen: 127.0.0.1:9001
            model: from-file
            silence_timeout: 40s
            owners: [a@example.com, B@example.com]
            user_concurrent_turns: 0
            log_format: json
            """)
        let loaded = try Self.load(
            ["--config", path, "--silence-timeout", "7s"],
            environment: ["PALIADIN_MODEL": "from-env", "PALIADIN_SILENCE_TIMEOUT": "20s", "PALIADIN_EMPTY_IGNORED": ""])
        let configuration = loaded.configuration
        #expect(configuration.port == 9001)
        #expect(configuration.model == "from-env")
        #expect(configuration.engine.timing.silenceLimit == .seconds(7))
        #expect(configuration.owners == ["a@example.com", "B@example.com"])
        #expect(configuration.engine.userLimits.concurrentTurns == nil)
        #expect(configuration.logFormat == .json)
        #expect(configuration.databasePath == AppConfiguration().databasePath)
        #expect(loaded.origins["listen"] == .file(path))
        #expect(loaded.origins["model"] == .environment("PALIADIN_MODEL"))
        #expect(loaded.origins["silence_timeout"] == .flag("--silence-timeout"))
        #expect(loaded.origins["database"] == nil)

        // PALIADIN_CONFIG names the file when --config does not.
        let byVariable = try Self.load([], environment: ["PALIADIN_CONFIG": path])
        #expect(byVariable.configuration.model == "from-file")
        #expect(byVariable.file == path)
    }

    @Test("unknown keys and bad values are errors that say where, all at once")
    func errors() throws {
        let path = try Self.file(
            """
            lisen: 127.0.0.1:9001
            database_pool: many
            PALIADIN_MODEL: x
            silence_timeout: {seconds: 5}
            """)
        let problems = Self.problems(["--config", path, "--max-body=-3"], environment: ["PALIADIN_HEARTBEAT": "soon"])
        let text = problems.joined(separator: "\n")
        #expect(text.contains("line 1: unknown key 'lisen' (did you mean 'listen'?)"), "\(text)")
        #expect(text.contains("unknown key 'PALIADIN_MODEL' (did you mean 'model'?)"), "\(text)")
        #expect(text.contains("silence_timeout must be a single value"), "\(text)")
        // A file with unknown keys is not read further: its values come once its keys are right.
        #expect(problems.count == 3, "\(text)")

        // The values once the keys are fine: one problem per source, named as the user wrote it.
        let fixed = try Self.file("listen: 127.0.0.1:9001\ndatabase_pool: many\n")
        let valueProblems = Self.problems(["--config", fixed, "--max-body=-3"], environment: ["PALIADIN_HEARTBEAT": "soon"])
        #expect(valueProblems.contains { $0.hasPrefix("\(fixed), line 2: database_pool must be a positive whole number, got 'many'") }, "\(valueProblems)")
        #expect(valueProblems.contains { $0.hasPrefix("PALIADIN_HEARTBEAT must be a positive duration") }, "\(valueProblems)")
        #expect(valueProblems.contains { $0.hasPrefix("--max-body must be a positive whole number, got '-3'") }, "\(valueProblems)")

        #expect(Self.problems(["--config", "/nonexistent/paliadin.yaml"]).first?.contains("cannot read the configuration file") == true)
        #expect(Self.problems(["--config", try Self.file("- a\n- b\n")]).first?.contains("must be a mapping") == true)
        #expect(Self.problems(["--config", try Self.file("listen: [unclosed\n")]).first?.contains("not valid YAML") == true)
        #expect(
            Self.problems(["--heartbeat", "10s", "--instance-timeout", "15s"]).first?.contains("instance_timeout (15s) must be more than twice heartbeat")
                == true)
        #expect(Self.problems(["--log-format", "xml"]) == ["--log-format must be text or json, got 'xml'"])
        #expect(Self.problems(["--otlp-endpoint", "collector:4318"]).first?.contains("must be an http:// or https:// URL") == true)
    }

    @Test("backends may be listed in the configuration file, with their keys checked")
    func backendsInFile() throws {
        let path = try Self.file(
            """
            default_backend: claude
            backends:
              - {name: local, type: openai, url: "http://127.0.0.1:8081/v1", model: smollm2}
              - {name: claude, type: anthropic, model: claude-sonnet-4-5, api_key_env: ANTHROPIC_API_KEY}
            """)
        let loaded = try Self.load(["--config", path], environment: ["ANTHROPIC_API_KEY": "sk-test"])
        #expect(loaded.configuration.backendsFile?.backends.map(\.name) == ["local", "claude"])
        #expect(loaded.configuration.backendsFile?.default == "claude")

        let typo = try Self.file("backends:\n  - {name: local, type: openai, url: \"http://x/v1\", modle: m}\n")
        let problems = Self.problems(["--config", typo])
        #expect(problems.first?.contains("unknown key 'modle' in backend 'local' (did you mean 'model'?)") == true, "\(problems)")

        let separate = try Self.file("backends:\n  - {name: other, type: openai, url: \"http://x/v1\", model: m}\n", name: "backends.yaml")
        let both = Self.problems(["--config", path, "--backends-file", separate], environment: ["ANTHROPIC_API_KEY": "sk-test"])
        #expect(both.first?.contains("keep one") == true, "\(both)")
    }

    @Test("config check's report masks secrets, names each value's origin, and reads back as the same configuration")
    func report() throws {
        let key = "a-session-key-that-is-long-enough-0123456789"
        let path = try Self.file("listen: 127.0.0.1:9002\nmetrics_token: scrape-secret-token\n")
        let loaded = try Self.load(
            ["--config", path, "--turn-deadline", "45m"], environment: ["PALIADIN_API_KEY": "sk-never-shown", "PALIADIN_SESSION_KEY": key])
        let report = loaded.report()
        for secret in ["sk-never-shown", key, "scrape-secret-token"] {
            #expect(!report.contains(secret))
        }
        #expect(report.split(separator: "\n").contains { $0.hasPrefix("api_key:") && $0.hasSuffix("null  # set, hidden (env PALIADIN_API_KEY)") }, "\(report)")
        #expect(report.split(separator: "\n").contains { $0.hasPrefix("metrics_token:") && $0.hasSuffix("null  # set, hidden (file \(path))") }, "\(report)")
        let listen = try #require(report.split(separator: "\n").first { $0.hasPrefix("listen:") })
        #expect(listen.contains(#""127.0.0.1:9002""#) && listen.hasSuffix("# file \(path)"))
        #expect(report.split(separator: "\n").contains { $0.hasPrefix("turn_deadline:") && $0.contains(#""45m""#) && $0.hasSuffix("# flag --turn-deadline") })
        #expect(report.split(separator: "\n").contains { $0.hasPrefix("silence_timeout:") && $0.contains(#""90s""#) && $0.hasSuffix("# default") })

        // The report is itself a configuration file giving the same configuration; a secret it
        // hides comes, read back, from where it came from before (here the environment).
        let backends = try Self.file(
            """
            backends:
              - {name: agent, type: cli, format: claude-stream-json, command: [claude, -p], prompt: argument,
                 working_directory: /srv/agent, environment: {MODE: support}, remove_environment: ["PALIADIN_*"],
                 ssh: {host: agent.example.com, user: paliadin, port: 2222, options: [-4]}}
              - {name: claude, type: anthropic, model: claude-x, api_key_env: ANTHROPIC_KEY, max_tokens: 512}
            default_backend: claude
            system_prompt: "odd \\u007F and \\u0085 characters"
            database: postgres://paliadin:db-password@db.internal:5432/paliadin
            """)
        let environment = ["PALIADIN_METRICS_TOKEN": "scrape-secret-token", "ANTHROPIC_KEY": "sk-ant"]
        let plain = try Self.load(
            ["--config", backends, "--turn-deadline", "45m", "--owners", "x@example.com,y@example.com", "--idle-timeout", "0"],
            environment: environment)
        #expect(!plain.report().contains("db-password"))
        #expect(plain.report().contains("postgres://paliadin:(hidden)@db.internal:5432/paliadin"))
        let copy = try Self.file(plain.report().replacingOccurrences(of: "(hidden)", with: "db-password"))
        let reloaded = try Self.load(["--config", copy], environment: environment)
        #expect(reloaded.configuration.backendsFile == plain.configuration.backendsFile)
        #expect(reloaded.configuration.systemPrompt == "odd \u{7F} and \u{85} characters")
        #expect(reloaded.configuration.metricsToken == "scrape-secret-token")
        func values(_ loaded: ConfigurationLoader.Loaded) -> [String] {
            loaded.report().split(separator: "\n").dropFirst().map { String($0.split(separator: "#")[0]) }
        }
        #expect(values(reloaded) == values(plain))
    }

    @Test("an unknown PALIADIN_ variable is a warning that suggests the right name")
    func unknownVariable() throws {
        let loaded = try Self.load([], environment: ["PALIADIN_DATABSE": "x.sqlite", "PALIADIN_TOKEN": "client"])
        #expect(loaded.warnings == ["the environment variable PALIADIN_DATABSE is not a setting and is ignored (did you mean PALIADIN_DATABASE?)"])
    }

    @Test("OpenTelemetry's own variables: those that would stop tracing are problems, overrides are warnings")
    func openTelemetryVariables() throws {
        let on = ["--otlp-endpoint", "http://127.0.0.1:4318"]
        #expect(Self.problems(on, environment: ["OTEL_SDK_DISABLED": "true"]).first?.contains("OTEL_SDK_DISABLED") == true)
        #expect(Self.problems(on, environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"]).first?.contains("OTLP/HTTP only") == true)
        #expect(Self.problems(on, environment: ["OTEL_TRACES_EXPORTER": "zipkin"]).first?.contains("OTEL_TRACES_EXPORTER=zipkin") == true)
        let warned = try Self.load(on, environment: ["OTEL_SERVICE_NAME": "other", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"])
        #expect(warned.warnings.contains("OTEL_SERVICE_NAME overrides service_name (swift-otel reads it)"))
        #expect(warned.warnings.contains("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json overrides otlp_protocol"))
        // Without an endpoint, tracing is off and these variables do not matter.
        #expect(try Self.load([], environment: ["OTEL_SDK_DISABLED": "true"]).warnings.isEmpty)
    }

    @Test("a backend that could not be made is a problem at start-up (and for config check), not a crash later")
    func backendProblems() throws {
        let path = try Self.file(
            """
            backends:
              - {name: claude, type: anthropic, model: m, api_key_env: PALIADIN_TEST_ANTHROPIC_KEY}
              - {name: agent, type: cli, command: [agent], format: yaml}
            """)
        let problems = Self.problems(["--config", path])
        #expect(problems.contains { $0.contains("PALIADIN_TEST_ANTHROPIC_KEY (its api_key_env) is empty or unset") }, "\(problems)")
        #expect(problems.contains { $0.contains("format must be text or claude-stream-json") }, "\(problems)")
        // Given the key, the variable is known: no warning about it.
        let loaded = try Self.load(["--config", try Self.file("backends:\n  - {name: c, type: anthropic, model: m, api_key_env: PALIADIN_TEST_ANTHROPIC_KEY}\n")],
            environment: ["PALIADIN_TEST_ANTHROPIC_KEY": "sk"])
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        #expect(Self.problems(["--database", "postgres://nobody@/x"]).first?.contains("--database is not a usable PostgreSQL URL") == true)
    }

    @Test("YAML errors say where, but never repeat the file's text")
    func yamlErrorsHideText() throws {
        let duplicated = try Self.file("api_key: sk-secret-one\napi_key: sk-secret-two\n")
        let scanner = try Self.file("session_key: \"sk-secret-three\n")
        for path in [duplicated, scanner] {
            let text = Self.problems(["--config", path]).joined()
            #expect(text.contains("not valid YAML") && text.contains("line"), "\(text)")
            #expect(!text.contains("sk-secret"), "\(text)")
        }
    }

    @Test("every setting has a flag, and the README's table documents its flag, variable and key")
    func documented() throws {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md"), encoding: .utf8)
        for setting in ServerSetting.all {
            let row = readme.split(separator: "\n").first { $0.hasPrefix("| `\(setting.flag)` |") }
            #expect(row?.contains("`\(setting.variable)`") == true, "README lacks a row for \(setting.flag) with \(setting.variable)")
            #expect(row?.contains("`\(setting.key)`") == true, "README's row of \(setting.flag) lacks the key \(setting.key)")
            // The flag parses, into its own setting.
            #expect(try ServerOptions.parse([setting.flag, "x"]).flagValues == [setting.key: "x"], "\(setting.flag)")
        }
    }
}

@Suite("JSON log lines")
struct JSONLogTests {
    @Test("one JSON object per line with the message and the metadata")
    func lines() throws {
        let lines = LockedLines()
        var logger = Logger(label: "paliadin") { JSONLogHandler(label: $0, sink: { lines.append($0) }) }
        logger.logLevel = .debug
        logger[metadataKey: "instance"] = "i-1"
        logger.info("turn ended", metadata: ["turn": "t-1", "duration_ms": .stringConvertible(12), "message": "shadow", "nested": ["a": ["1", "2"]]])
        logger.trace("not written")
        let written = lines.all
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(!line.dropLast().contains(UInt8(ascii: "\n")))
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["message"] as? String == "turn ended")
        #expect(object["level"] as? String == "info")
        #expect(object["logger"] as? String == "paliadin")
        #expect(object["turn"] as? String == "t-1")
        #expect(object["duration_ms"] as? Int == 12)
        #expect(object["instance"] as? String == "i-1")
        #expect(object["meta.message"] as? String == "shadow")
        #expect((object["nested"] as? [String: [String]])?["a"] == ["1", "2"])
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
    }
}

/// Lines a test sink received.
final class LockedLines: Sendable {
    private let lines = Mutex<[Data]>([])
    func append(_ line: Data) { lines.withLock { $0.append(line) } }
    var all: [Data] { lines.withLock { $0 } }
}
