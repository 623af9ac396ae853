import Foundation

/// Parses the values of settings given as text (flags and environment variables).
public enum SettingValue {
    /// A duration: `250ms`, `5s`, `30m`, `2h`, or a plain number of seconds.
    public static func duration(_ text: String) -> Duration? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("min", 60), ("h", 3600)]
        for (suffix, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)) else { return nil }
            return milliseconds(value * scale * 1000)
        }
        guard let seconds = Double(text) else { return nil }
        return milliseconds(seconds * 1000)
    }

    /// A duration as the settings write it: `90s`, `250ms`, `30m`, `2h`.
    public static func text(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds != 0, milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds != 0, milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }

    /// At most a year, so no setting can overflow the clock arithmetic.
    private static func milliseconds(_ value: Double) -> Duration? {
        guard value.isFinite, value >= 0, value <= 366 * 86_400_000 else { return nil }
        return .milliseconds(Int64(value.rounded()))
    }

    /// A boolean: true/false, yes/no, on/off, 1/0.
    public static func bool(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "yes", "on", "1": true
        case "false", "no", "off", "0": false
        default: nil
        }
    }

    /// `host:port`, `[v6]:port` or `:port` (all interfaces).
    public static func listenAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// A web origin as a browser writes it (`scheme://host[:port]`, no path), lowercased. Nil
    /// for anything else — `*` included: a chat any site could frame would take page context
    /// from any site — so a typo cannot widen a Content-Security-Policy.
    public static func origin(_ text: String) -> String? {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
            components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil,
            host.allSatisfy({ $0.isLetter || $0.isNumber || "-.[]:".contains($0) })
        else { return nil }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host.lowercased())\(port)"
    }

    /// True for a valid HTTP header name (letters, digits and `!#$%&'*+-.^_`|~`).
    public static func headerName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0)) }
    }

    /// A comma-separated list, blanks dropped.
    public static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
