/// The authenticated caller.
public struct PaliadinUser: Sendable, Equatable {
    /// User id or email, normalised.
    public let id: String

    public init(id: String) {
        self.id = AppConfiguration.normalize(id)
    }
}
