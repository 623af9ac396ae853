import Foundation

extension ConfigurationLoader.Loaded {
    /// What a secret's value is shown as.
    static let hidden = "(hidden)"

    /// The effective configuration as YAML, one setting per line with where its value came
    /// from; secrets masked. What `paliadin config check` prints.
    public func report() -> String {
        var lines = ["# Effective configuration of paliadin serve" + (file.map { " (configuration file: \($0))" } ?? "")]
        let width = ServerSetting.all.map(\.key.count).max() ?? 0
        for setting in ServerSetting.all {
            let origin = origins[setting.key] ?? .builtIn
            var value = setting.show(configuration).map(Self.quoted) ?? "null"
            if setting.secret, setting.show(configuration) != nil { value = Self.quoted(Self.hidden) }
            let line = "\(setting.key):".padding(toLength: width + 2, withPad: " ", startingAt: 0) + value
            lines.append(line + "  # \(origin)")
        }
        if let backends = configuration.backendsFile {
            lines.append("backends:  # \(origins["backends"] ?? .builtIn)")
            for spec in backends.backends {
                var fields = ["name: \(Self.quoted(spec.name))", "type: \(spec.type.rawValue)"]
                if let url = spec.url { fields.append("url: \(Self.quoted(url))") }
                if let model = spec.model { fields.append("model: \(Self.quoted(model))") }
                if let variable = spec.apiKeyEnv { fields.append("api_key_env: \(Self.quoted(variable))") }
                if let command = spec.command { fields.append("command: [\(command.map(Self.quoted).joined(separator: ", "))]") }
                if let ssh = spec.ssh { fields.append("ssh: {host: \(Self.quoted(ssh.host))}") }
                lines.append("  - {\(fields.joined(separator: ", "))}")
            }
            lines.append("default_backend: \(Self.quoted(backends.default ?? backends.backends[0].name))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML double-quoted scalar (JSON's string syntax is valid YAML).
    static func quoted(_ text: String) -> String {
        guard let data = try? JSONEncoder().encode(text), let quoted = String(data: data, encoding: .utf8) else { return "\"\"" }
        return quoted.replacingOccurrences(of: "\\/", with: "/")
    }
}
