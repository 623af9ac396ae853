/// Errors of the stores that callers may want to tell apart.
public enum StoreError: Error, CustomStringConvertible {
    /// The database was written by a newer Paliadin; this one refuses to touch it.
    case schemaTooNew(found: Int, known: Int)
    /// The PostgreSQL URL cannot be used; the reason names what is wrong (never the password).
    case invalidDatabaseURL(String)
    /// The database refused a statement or could not be reached; the reason is the server's
    /// message or the connection's error, readable, without the password.
    case database(String)

    public var description: String {
        switch self {
        case .schemaTooNew(let found, let known):
            "the database schema is version \(found), newer than this Paliadin knows (\(known)); upgrade Paliadin"
        case .invalidDatabaseURL(let reason):
            "invalid database URL: \(reason)"
        case .database(let reason):
            "database error: \(reason)"
        }
    }
}
