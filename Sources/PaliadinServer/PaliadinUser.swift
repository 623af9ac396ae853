/// The authenticated caller.
public struct PaliadinUser: Sendable, Equatable {
    /// How the caller proved who they are.
    public enum Credential: Sendable, Equatable {
        /// An API token (`Authorization: Bearer pal_…`).
        case apiToken
        /// A host-app-signed session token sent as `Authorization: Bearer`.
        case sessionBearer
        /// A host-app-signed session token in the `paliadin_session` cookie: a browser sends
        /// it by itself, so requests that change something must show a matching `Origin`.
        case sessionCookie
        /// A trusted reverse proxy's user header.
        case proxy
        /// Dev mode: a loopback request without credentials.
        case devMode
    }

    /// User id or email, normalised.
    public let id: String
    public let credential: Credential

    public init(id: String, credential: Credential = .apiToken) {
        self.id = AppConfiguration.normalize(id)
        self.credential = credential
    }
}
