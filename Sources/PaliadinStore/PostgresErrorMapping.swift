import PostgresNIO

/// Makes PostgresNIO's errors readable: its own descriptions hide everything (they fear
/// leaking data to end users); ours keep the server's message and code, the kind of
/// connection failure and the column that did not decode. None holds a password: the
/// connection's configuration is never part of an error.
enum PostgresErrorMapping {
    /// The error to throw for one caught while talking to PostgreSQL.
    static func storeError(_ error: any Error) -> any Error {
        switch error {
        case let error as PSQLError: StoreError.database(describe(error))
        case let error as PostgresDecodingError:
            StoreError.database(
                "column \(error.columnName) (\(error.postgresType)) does not decode as \(error.targetType): \(error.code)")
        case let error as PostgresTransactionError:
            storeError(error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error)
        default:
            // The pool's own errors (its module is not public API): the one that matters says
            // that no connection could be made for a while (60 s), the server being down.
            if String(reflecting: type(of: error)).hasPrefix("_ConnectionPoolModule.") {
                String(describing: error).contains("CircuitBreakerTripped")
                    ? StoreError.database("no connection to the database could be made (the pool gave up retrying)")
                    : StoreError.database("connection pool: \(error)")
            } else {
                error
            }
        }
    }

    /// The server's message, detail, hint and SQLSTATE; or the client's error code and cause.
    static func describe(_ error: PSQLError) -> String {
        if let info = error.serverInfo {
            var text = info[.message] ?? "server error"
            if let detail = info[.detail] { text += " (\(detail))" }
            if let hint = info[.hint] { text += "; hint: \(hint)" }
            if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            return text
        }
        var text = "\(error.code)"
        if let underlying = error.underlying {
            let cause = (underlying as? PSQLError).map(describe) ?? String(describing: underlying)
            text += ": \(cause)"
        }
        return text
    }

    /// The SQLSTATE of a server error (e.g. `23505` for a unique violation), if it is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
