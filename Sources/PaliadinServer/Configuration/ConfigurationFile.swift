import Foundation
import Yams

/// The configuration file of `paliadin serve` (`--config` / `PALIADIN_CONFIG`), in YAML, the
/// format of the backends file:
///
/// ```yaml
/// listen: 127.0.0.1:8080
/// database: /var/lib/paliadin/paliadin.sqlite
/// owners: [alice@example.com, bob@example.com]   # or one comma-separated string
/// silence_timeout: 90s
/// default_backend: local
/// backends:
///   - {name: local, type: openai, url: "http://127.0.0.1:8081/v1", model: smollm2}
/// ```
///
/// Every key is a setting's key (`ServerSetting.all`), or `backends` / `default_backend`
/// (the backends file's `backends` and `default`). An unknown key is an error.
public struct ConfigurationFile: Sendable {
    /// Where it was read from.
    public let path: String
    /// Each setting's value as text, with its line, in the file's order.
    let values: [(key: String, value: String, line: Int?)]
    /// The backends the file lists, checked.
    let backends: BackendsFile?

    /// The text the file gives a setting, if it gives one.
    public func value(of key: String) -> String? {
        values.last { $0.key == key }?.value
    }

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws -> ConfigurationFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(["cannot read the configuration file \(path): \(error.localizedDescription)"])
        }
        return try parse(text, path: path)
    }

    /// Checks the YAML text of a configuration file; `path` names it in errors.
    public static func parse(_ text: String, path: String) throws -> ConfigurationFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(["\(path) is not valid YAML: \(ConfigurationError.describeYAML(error))"])
        }
        // An empty file configures nothing.
        guard let root else { return ConfigurationFile(path: path, values: [], backends: nil) }
        guard let mapping = root.mapping else { throw ConfigurationError(["\(path) must be a mapping of keys to values (key: value)"]) }
        let known = ServerSetting.all.map(\.key)
        var problems: [String] = []
        var values: [(key: String, value: String, line: Int?)] = []
        var backendList: Node?
        var defaultBackend: Node?
        for (keyNode, value) in mapping {
            let place = "\(path)\(keyNode.mark.map { ", line \($0.line)" } ?? "")"
            guard let key = keyNode.string else {
                problems.append("\(place): keys must be plain words")
                continue
            }
            switch key {
            case "backends": backendList = value
            case "default_backend": defaultBackend = value
            case _ where known.contains(key):
                if let text = scalarText(value) {
                    values.append((key, text, keyNode.mark?.line))
                } else {
                    problems.append("\(place): \(key) must be a single value or a list of single values")
                }
            default:
                let candidates = known + ["backends", "default_backend"]
                let hint = suggestion(for: key, among: candidates).map { " (did you mean '\($0)'?)" } ?? ""
                problems.append("\(place): unknown key '\(key)'\(hint)")
            }
        }
        var backends: BackendsFile?
        if let backendList {
            var pairs: [(Node, Node)] = [("backends", backendList)]
            if let defaultBackend { pairs.append(("default", defaultBackend)) }
            do {
                backends = try BackendsFileLoader.parse(Node.mapping(Node.Mapping(pairs)))
            } catch let error as BackendsFileError {
                problems.append("\(path): backends: \(error.description)")
            }
        } else if defaultBackend != nil {
            problems.append("\(path): default_backend is set but no backends are listed")
        }
        guard problems.isEmpty else { throw ConfigurationError(problems) }
        return ConfigurationFile(path: path, values: values, backends: backends)
    }

    /// A scalar as its text (null: empty), or a list of scalars joined with commas; nil for
    /// anything else.
    static func scalarText(_ node: Node) -> String? {
        switch node {
        case .scalar(let scalar):
            return node.null != nil && scalar.style == .plain ? "" : scalar.string
        case .sequence(let sequence):
            let items = sequence.map { item -> String? in
                guard case .scalar(let scalar) = item else { return nil }
                return scalar.string
            }
            guard !items.contains(nil) else { return nil }
            return items.compactMap { $0 }.joined(separator: ",")
        case .mapping, .alias:
            return nil
        }
    }

    /// The known word closest to `word` (a typo of it, or its environment variable's name), if any is close.
    static func suggestion(for word: String, among known: [String]) -> String? {
        var candidate = word.lowercased().replacingOccurrences(of: "-", with: "_")
        if candidate.hasPrefix("paliadin_") { candidate.removeFirst("paliadin_".count) }
        if known.contains(candidate) { return candidate }
        let scored = known.map { ($0, distance(candidate, $0)) }.min { $0.1 < $1.1 }
        guard let (best, score) = scored, score <= max(2, best.count / 4) else { return nil }
        return best
    }

    /// Levenshtein distance.
    private static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        guard !a.isEmpty else { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
