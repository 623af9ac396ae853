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

        func apply(_ setting: ServerSetting, _ text: String, from origin: Origin, place: String) {
            // An empty value (a YAML null, an empty variable or flag) leaves the setting as it was.
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
            do {
                try setting.apply(&configuration, text)
                origins[setting.key] = origin
            } catch let problem as SettingProblem {
                problems.append("\(place) \(problem.description)")
            } catch {
                problems.append("\(place) \(error)")
            }
        }

        if let file {
            for (key, value) in file.values {
                apply(ServerSetting.named(key), value, from: .file(file.path), place: "\(file.path): \(key)")
            }
            if let backends = file.backends {
                configuration.backendsFile = backends
                origins["backends"] = .file(file.path)
            }
        }
        for setting in ServerSetting.all {
            if let value = environment[setting.variable] {
                apply(setting, value, from: .environment(setting.variable), place: setting.variable)
            }
        }
        for setting in ServerSetting.all {
            if let value = flags[setting.key] {
                apply(setting, value, from: .flag(setting.flag), place: setting.flag)
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
        guard problems.isEmpty else { throw ConfigurationError(problems) }

        let known = Set(ServerSetting.all.map(\.variable)).union(otherVariables)
        let warnings = environment.keys.sorted().filter { $0.hasPrefix("PALIADIN_") && !known.contains($0) && !$0.hasPrefix("PALIADIN_TEST_") }
            .map { variable in
                let hint = ConfigurationFile.suggestion(for: variable, among: ServerSetting.all.map(\.key))
                    .map { " (did you mean \(ServerSetting.named($0).variable)?)" } ?? ""
                return "the environment variable \(variable) is not a setting and is ignored\(hint)"
            }
        return Loaded(configuration: configuration, origins: origins, warnings: warnings, file: file?.path)
    }
}
