import Foundation
import Yams

/// Reads and checks a backends file, with errors that say what to fix.
public enum BackendsFileLoader {
    /// Parses the YAML text; checks names, URLs and the default.
    public static func parse(_ text: String) throws -> BackendsFile {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw BackendsFileError("the backends file is not valid YAML: \(ConfigurationError.describeYAML(error))")
        }
        guard let node else { throw BackendsFileError("the backends file is empty") }
        return try parse(node)
    }

    /// Checks a backends file already read as YAML (the backends file, or the `backends:` part
    /// of the configuration file): keys, names, URLs and the default.
    public static func parse(_ node: Node) throws -> BackendsFile {
        try checkKeys(node)
        let file: BackendsFile
        do {
            file = try YAMLDecoder().decode(BackendsFile.self, from: node)
        } catch let error as DecodingError {
            throw BackendsFileError("the backends file does not fit the format: \(describe(error))")
        } catch {
            throw BackendsFileError("the backends file cannot be read: \(ConfigurationError.describeYAML(error))")
        }
        guard !file.backends.isEmpty else { throw BackendsFileError("the backends file lists no backend") }
        var seen: Set<String> = []
        for spec in file.backends {
            guard !spec.name.isEmpty, spec.name.count <= 64,
                spec.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
            else { throw BackendsFileError("backend name '\(spec.name)': use 1–64 letters, digits, '-', '_' or '.'") }
            guard seen.insert(spec.name).inserted else { throw BackendsFileError("two backends are named '\(spec.name)'") }
            if let url = spec.url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                throw BackendsFileError("backend '\(spec.name)': url must start with http:// or https://, got '\(url)'")
            }
            if spec.type != .cli, spec.model == nil {
                throw BackendsFileError("backend '\(spec.name)': an \(spec.type.rawValue) backend needs a model")
            }
            if spec.type == .openai, spec.url == nil { throw BackendsFileError("backend '\(spec.name)': an openai backend needs a url") }
            if let maxTokens = spec.maxTokens, maxTokens <= 0 { throw BackendsFileError("backend '\(spec.name)': max_tokens must be positive") }
        }
        if let name = file.default, !seen.contains(name) {
            throw BackendsFileError("the default backend '\(name)' is not in the list (\(file.backends.map(\.name).joined(separator: ", ")))")
        }
        return file
    }

    /// Refuses keys the format does not have, so a typo is an error rather than a setting
    /// silently ignored.
    static func checkKeys(_ node: Node) throws {
        func check(_ node: Node, allowed: [String], at place: String) throws {
            guard let mapping = node.mapping else { return }
            for key in mapping.keys.compactMap(\.string) where !allowed.contains(key) {
                let hint = ConfigurationFile.suggestion(for: key, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                throw BackendsFileError("unknown key '\(key)' \(place)\(hint); known keys: \(allowed.joined(separator: ", "))")
            }
        }
        try check(node, allowed: ["default", "backends"], at: "at the top of the backends file")
        for (index, backend) in (node.mapping?["backends"]?.sequence.map(Array.init) ?? []).enumerated() {
            let name = backend.mapping?["name"]?.string ?? "#\(index + 1)"
            try check(backend, allowed: BackendSpec.CodingKeys.allCases.map(\.stringValue), at: "in backend '\(name)'")
            if let ssh = backend.mapping?["ssh"] {
                try check(ssh, allowed: BackendSpec.SSHSpec.CodingKeys.allCases.map(\.stringValue), at: "in the ssh of backend '\(name)'")
            }
        }
    }

    /// Reads the file at `path`.
    public static func load(path: String) throws -> BackendsFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw BackendsFileError("cannot read the backends file \(path): \(error.localizedDescription)")
        }
        return try parse(text)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing '\(key.stringValue)' at '\(path(context))'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription) at '\(path(context))'"
        @unknown default: return "\(error)"
        }
    }
}

/// A backends file that cannot be used.
public struct BackendsFileError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
