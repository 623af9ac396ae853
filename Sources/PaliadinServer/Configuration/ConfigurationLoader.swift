import Foundation

/// Builds the effective configuration of `paliadin serve` from, in rising precedence, the
/// defaults, the configuration file, the environment and the flags; checks every value and
/// reports every problem at once, each with where it came from.
public enum ConfigurationLoader {
    /// Where a setting's effective value came from.
    public enum Origin: Sendable, Equatable, CustomStringConvertible {
        case builtIn
        case file(String)
        case environment(String)
        case flag(String)

        public var description: String {
            switch self {
            case .builtIn: "default"
            case .file(let path): "file \(path)"
            case .environment(let variable): "env \(variable)"
            case .flag(let flag): "flag \(flag)"
            }
        }
    }

    /// The effective configuration and where each setting came from.
    public struct Loaded: Sendable {
        public var configuration: AppConfiguration
        /// Setting key → origin of its value (`.builtIn` for those not set).
        public var origins: [String: Origin]
        /// Things worth saying that do not stop the start (an unknown `PALIADIN_` variable).
        public var warnings: [String]
        /// The configuration file, if one was read.
        public var file: String?
    }

    /// Variables named `PALIADIN_…` that are not settings of `serve` but are known: the
    /// configuration file's own, and the terminal client's.
    static let otherVariables: Set<String> = ["PALIADIN_CONFIG", "PALIADIN_SERVER", "PALIADIN_TOKEN"]

    /// Loads the configuration.
    /// - Parameters:
    ///   - file: the configuration file, already read (nil: none).
    ///   - environment: the process environment; empty variables count as unset.
    ///   - flags: setting key → the flag's value, for the flags given.
    public static func load(file: ConfigurationFile?, environment: [String: String], flags: [String: String]) throws -> Loaded {
        var configuration = AppConfiguration()
        var origins: [String: Origin] = [:]
        var problems: [String] = []

        if let backends = file?.backends, let file {
            configuration.backendsFile = backends
            origins["backends"] = .file(file.path)
        }
        // Each setting from the one source that wins (a flag, else the environment, else the
        // file): a value that is overridden is neither applied nor held against the start.
        // An empty value (a YAML null, an empty variable or flag) counts as not given.
        for setting in ServerSetting.all {
            func given(_ text: String?) -> String? {
                text.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            }
            let winner: (text: String, origin: Origin, place: String)
            if let text = given(flags[setting.key]) {
                winner = (text, .flag(setting.flag), setting.flag)
            } else if let text = given(environment[setting.variable]) {
                winner = (text, .environment(setting.variable), setting.variable)
            } else if let file, let entry = file.values.last(where: { $0.key == setting.key }), let text = given(entry.value) {
                winner = (text, .file(file.path), "\(file.path)\(entry.line.map { ", line \($0)" } ?? ""): \(setting.key)")
            } else {
                continue
            }
            do {
                try setting.apply(&configuration, winner.text)
                origins[setting.key] = winner.origin
            } catch let problem as SettingProblem {
                problems.append("\(winner.place) \(problem.description)")
            } catch {
                problems.append("\(winner.place) \(error)")
            }
        }

        if origins["backends"] != nil, let other = origins["backends_file"] {
            problems.append("backends are listed both in \(file?.path ?? "the configuration file") and in the backends file (\(other)); keep one")
        }
        if origins["backends_file"] != nil { origins["backends"] = origins["backends_file"] }
        if configuration.instanceTimeout <= configuration.heartbeatInterval * 2 {
            problems.append(
                "instance_timeout (\(SettingValue.text(configuration.instanceTimeout))) must be more than twice heartbeat "
                    + "(\(SettingValue.text(configuration.heartbeatInterval))), or live instances look dead")
        }
        if let metrics = configuration.metricsListen, metrics.port != 0, metrics.port == configuration.port, metrics.host == configuration.host {
            problems.append("metrics_listen (\(metrics)) is the address the server listens on; give the metrics a port of their own")
        }
        if let backends = configuration.backendsFile {
            problems += BackendFactory.problems(in: backends, environment: environment)
        }
        var warnings: [String] = []
        if configuration.otlpEndpoint != nil {
            let (otelProblems, otelWarnings) = checkOpenTelemetryVariables(environment)
            problems += otelProblems
            warnings += otelWarnings
        }
        guard problems.isEmpty else { throw ConfigurationError(problems) }

        // Backends may read their keys from PALIADIN_… variables of their own.
        let keyVariables = configuration.backendsFile?.backends.compactMap(\.apiKeyEnv) ?? []
        let known = Set(ServerSetting.all.map(\.variable)).union(otherVariables).union(keyVariables)
        warnings += environment.keys.sorted().filter { $0.hasPrefix("PALIADIN_") && !known.contains($0) }
            .map { variable in
                let hint = ConfigurationFile.suggestion(for: variable, among: ServerSetting.all.map(\.key))
                    .map { " (did you mean \(ServerSetting.named($0).variable)?)" } ?? ""
                return "the environment variable \(variable) is not a setting and is ignored\(hint)"
            }
        return Loaded(configuration: configuration, origins: origins, warnings: warnings, file: file?.path)
    }

    /// swift-otel reads the standard `OTEL_*` variables too: those that would stop it or that
    /// it cannot honour here are problems; those that override a setting are worth a warning.
    static func checkOpenTelemetryVariables(_ environment: [String: String]) -> (problems: [String], warnings: [String]) {
        func value(_ name: String) -> String? {
            environment[name].map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var problems: [String] = []
        var warnings: [String] = []
        if value("OTEL_SDK_DISABLED") == "true" {
            problems.append("OTEL_SDK_DISABLED=true turns OpenTelemetry off while otlp_endpoint asks for traces; unset one of them")
        }
        if let exporter = value("OTEL_TRACES_EXPORTER"), exporter != "otlp" {
            problems.append("OTEL_TRACES_EXPORTER=\(exporter): Paliadin exports traces over OTLP only; unset it")
        }
        for name in ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] {
            guard let proto = value(name) else { continue }
            if proto == "http/protobuf" || proto == "http/json" {
                warnings.append("\(name)=\(proto) overrides otlp_protocol")
            } else {
                problems.append("\(name)=\(proto): Paliadin exports over OTLP/HTTP only (http/protobuf or http/json); use otlp_protocol")
            }
        }
        for (name, setting) in [
            ("OTEL_SERVICE_NAME", "service_name"), ("OTEL_EXPORTER_OTLP_ENDPOINT", "otlp_endpoint"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "otlp_endpoint"),
        ] where value(name) != nil {
            warnings.append("\(name) overrides \(setting) (swift-otel reads it)")
        }
        return (problems, warnings)
    }
}
