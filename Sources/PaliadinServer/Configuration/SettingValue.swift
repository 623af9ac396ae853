import Foundation
import PaliadinCore

/// Parses the values of settings given as text (flags and environment variables).
public enum SettingValue {
    /// A duration: `250ms`, `5s`, `30m`, `2h`, or a plain number of seconds (`DurationText`).
    public static func duration(_ text: String) -> Duration? {
        DurationText.parse(text)
    }

    /// A duration as the settings write it: `90s`, `250ms`, `30m`, `2h`.
    public static func text(_ duration: Duration) -> String {
        DurationText.format(duration)
    }

    /// A URL with the password of its user part replaced by `(hidden)`, for showing a setting.
    public static func hidingPassword(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "(hidden)"
        return components.string ?? url
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
