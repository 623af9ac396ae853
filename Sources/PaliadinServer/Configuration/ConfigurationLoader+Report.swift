import Foundation
import Yams

extension ConfigurationLoader.Loaded {
    /// The effective configuration as YAML, one setting per line with where its value came
    /// from; what `paliadin config check` prints.
    ///
    /// It reads back as a configuration file giving the same configuration, with two
    /// exceptions that keep secrets off the screen: a secret that is set shows as `null` with
    /// a comment (so read back, it comes from where it came from before, the environment
    /// say), and a password inside a URL shows as `(hidden)`.
    public func report() -> String {
        var lines = ["# Effective configuration of paliadin serve" + (file.map { " (configuration file: \($0))" } ?? "")]
        let width = ServerSetting.all.map(\.key.count).max() ?? 0
        for setting in ServerSetting.all {
            let origin = origins[setting.key] ?? .builtIn
            let shown = setting.show(configuration)
            var value = shown.map(Self.quoted) ?? "null"
            var comment = "\(origin)"
            if setting.secret, shown != nil {
                value = "null"
                comment = "set, hidden (\(origin))"
            }
            lines.append("\(setting.key):".padding(toLength: width + 2, withPad: " ", startingAt: 0) + value + "  # " + comment)
        }
        if let backends = configuration.backendsFile {
            if configuration.backendsFilePath != nil {
                lines.append("# backends: \(backends.backends.count), from the backends_file above")
            } else {
                lines.append("default_backend: \(Self.quoted(backends.default ?? backends.backends[0].name))  # \(origins["backends"] ?? .builtIn)")
                lines.append("backends:")
                lines.append(Self.yaml(backends.backends))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The backends as a YAML list, every field, indented under `backends:`.
    static func yaml(_ backends: [BackendSpec]) -> String {
        // Strings, numbers, lists and maps only: encoding cannot fail.
        let text = (try? YAMLEncoder().encode(backends)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: true).map { "  " + $0 }.joined(separator: "\n")
    }

    /// A YAML double-quoted scalar: JSON's string syntax, with the control characters YAML
    /// refuses raw (DEL and the C1 range) escaped too.
    static func quoted(_ text: String) -> String {
        guard let data = try? JSONEncoder().encode(text), let quoted = String(data: data, encoding: .utf8) else { return "\"\"" }
        var result = ""
        for scalar in quoted.replacingOccurrences(of: "\\/", with: "/").unicodeScalars {
            if scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                result += String(format: "\\u%04X", scalar.value)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
