/// One setting of `paliadin serve`: its key in the configuration file, its environment
/// variable, its flag (`--` and the key with dashes), how a value in text is checked and
/// applied, and how the effective value is shown.
///
/// The catalog (`ServerSetting.all`) is the single list the configuration file, the
/// environment, the flags, `paliadin config check` and the README table follow.
public struct ServerSetting: Sendable {
    /// The key in the configuration file (`snake_case`).
    public let key: String
    /// The environment variable.
    public let variable: String
    /// The default, as the documentation shows it.
    public let defaultText: String
    /// What it does, in one sentence.
    public let summary: String
    /// A secret is never shown (config check masks it) and never logged.
    public let secret: Bool
    /// Checks a value and applies it; throws `SettingProblem` with what is wrong.
    let apply: @Sendable (inout AppConfiguration, String) throws -> Void
    /// The effective value as text; nil when unset.
    let show: @Sendable (AppConfiguration) -> String?

    init(
        _ key: String, _ variable: String, default defaultText: String, _ summary: String, secret: Bool = false,
        apply: @escaping @Sendable (inout AppConfiguration, String) throws -> Void,
        show: @escaping @Sendable (AppConfiguration) -> String?
    ) {
        self.key = key
        self.variable = variable
        self.defaultText = defaultText
        self.summary = summary
        self.secret = secret
        self.apply = apply
        self.show = show
    }

    /// The command-line flag: `--` and the key with dashes.
    public var flag: String { "--" + key.replacingOccurrences(of: "_", with: "-") }

    /// The flag's help text: the summary, the variable and the default.
    public var help: String { "\(summary) [env \(variable), default \(defaultText)]" }

    /// The setting with this key. The catalog is fixed, so a missing key is a programming error.
    public static func named(_ key: String) -> ServerSetting {
        guard let setting = all.first(where: { $0.key == key }) else { preconditionFailure("no setting named \(key)") }
        return setting
    }
}
