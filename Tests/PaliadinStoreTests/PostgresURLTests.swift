import Logging
import Testing

@testable import PaliadinStore

/// The PostgreSQL URL: what it may say, and how a wrong one is reported (no server needed).
@Suite("PostgreSQL URL")
struct PostgresURLTests {
    @Test("user, password, host, port, database and TLS mode; loopback hosts default to no TLS")
    func parses() throws {
        let full = try PostgresURL("postgresql://app:p%40ss@db.example.com:6543/paliadin?sslmode=require")
        #expect(full.user == "app")
        #expect(full.password == "p@ss")
        #expect(full.host == "db.example.com")
        #expect(full.port == 6543)
        #expect(full.database == "paliadin")
        #expect(full.tlsMode == .require)
        #expect(!full.redacted.contains("p@ss") && !full.redacted.contains("p%40ss"))

        let local = try PostgresURL("postgres://paliadin@127.0.0.1/paliadin")
        #expect(local.port == 5432)
        #expect(local.password == nil)
        #expect(local.tlsMode == .disable)
        #expect(try PostgresURL("postgres://u@localhost:5432/d").tlsMode == .disable)
        #expect(try PostgresURL("postgres://u@db.internal/d").tlsMode == .prefer)
        #expect(try PostgresURL("postgres://u@[::1]:5433/d").host == "::1")
        #expect(try PostgresURL("postgres://u@h/d?sslmode=verify-full").tlsMode == .verifyFull)
    }

    @Test("a wrong URL is refused with what is wrong, never with the password")
    func refusesClearly() {
        let cases: [(url: String, says: String)] = [
            ("mysql://app:s3cret@h/d", "postgres://"),
            ("s3cret", "postgres://"),
            ("postgres://app:s3cret@/d", "no host"),
            ("postgres://h:5432/d", "no user"),
            ("postgres://app:s3cret@h:5432", "no database"),
            ("postgres://app:s3cret@h:5432/", "no database"),
            ("postgres://app:s3cret@h/d?sslmode=sometimes", "sslmode"),
            ("postgres://app:s3cret@h/d?timeout=3", "timeout"),
            ("postgres://app:s3cret@h:99999/d", "port"),
            ("postgres://app:s3cret@h:abc/d", "not a valid URL"),
        ]
        for (url, says) in cases {
            let error = #expect(throws: StoreError.self, "\(url)") {
                try PostgresTurnStore(url: url, logger: Logger(label: "test"))
            }
            let text = error.map { String(describing: $0) } ?? ""
            #expect(text.contains(says), "\(url): \(text)")
            #expect(!text.contains("s3cret"), "\(url): \(text)")
        }
    }
}
