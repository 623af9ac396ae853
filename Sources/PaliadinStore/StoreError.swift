/// Errors of the stores that callers may want to tell apart.
public enum StoreError: Error, CustomStringConvertible {
    /// The database was written by a newer Paliadin; this one refuses to touch it.
    case schemaTooNew(found: Int, known: Int)

    public var description: String {
        switch self {
        case .schemaTooNew(let found, let known):
            "the database schema is version \(found), newer than this Paliadin knows (\(known)); upgrade Paliadin"
        }
    }
}
