import Foundation
import PostgresNIO

/// A `postgres://` (or `postgresql://`) URL taken apart: where the database is, who connects
/// and how.
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]`; the port defaults to
/// 5432. Special characters of the user or the password are percent-encoded. `sslmode`
/// follows libpq: `disable`, `prefer` and `require` (encrypted, the certificate not checked),
/// `verify-ca` (checked against the system's trusted roots) and `verify-full` (also the host
/// name). It defaults to `disable` for a loopback host, `prefer` otherwise.
struct PostgresURL: Sendable, Equatable {
    /// How the connection uses TLS (libpq's `sslmode`).
    enum TLSMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var tlsMode: TLSMode

    /// Parses a URL; the error says what is wrong and never repeats the password.
    init(_ text: String) throws(StoreError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let schemeEnd = trimmed.range(of: "://"),
            ["postgres", "postgresql"].contains(trimmed[..<schemeEnd.lowerBound].lowercased())
        else {
            throw .invalidDatabaseURL("it must start with postgres:// or postgresql://")
        }
        guard let components = URLComponents(string: trimmed) else {
            throw .invalidDatabaseURL(
                "it is not a valid URL (special characters in the user or the password must be percent-encoded)")
        }
        guard var host = components.host, !host.isEmpty else {
            throw .invalidDatabaseURL("it names no host (postgres://USER@HOST:PORT/DATABASE)")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let user = components.user, !user.isEmpty else {
            throw .invalidDatabaseURL("it names no user (postgres://USER@HOST:PORT/DATABASE)")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty, !database.contains("/") else {
            throw .invalidDatabaseURL("it names no database, or more than one (postgres://USER@HOST:PORT/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw .invalidDatabaseURL("its port \(port) is out of range")
        }
        var tlsMode: TLSMode = Self.isLoopback(host) ? .disable : .prefer
        for item in components.queryItems ?? [] {
            guard item.name == "sslmode" else {
                throw .invalidDatabaseURL("its parameter '\(item.name)' is not supported (only sslmode is)")
            }
            guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                throw .invalidDatabaseURL(
                    "sslmode must be one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            tlsMode = mode
        }
        self.host = host
        self.port = port
        self.user = user
        self.password = components.password
        self.database = database
        self.tlsMode = tlsMode
    }

    /// The URL without its password, for logs and messages.
    var redacted: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)?sslmode=\(tlsMode.rawValue)"
    }

    /// The configuration of a connection pool to this database.
    func clientConfiguration(poolSize: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch tlsMode {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration)
            case .require, .verifyCA, .verifyFull: .require(tlsConfiguration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        return configuration
    }

    /// The configuration of a single connection (the one that listens for notifications).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch tlsMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration))
            case .require, .verifyCA, .verifyFull: .require(try NIOSSLContext(configuration: tlsConfiguration))
            }
        return PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// TLS as libpq's `sslmode` means it: only the `verify-` modes check the certificate.
    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        return configuration
    }

    private static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
