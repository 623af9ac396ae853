import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import PaliadinServer
import Testing

@Suite("Health probes")
struct HealthTests {
    struct DatabaseDown: Error, CustomStringConvertible {
        var description: String { "connection refused to db.internal:5432 as paliadin:s3cret" }
    }

    @Test("/healthz and /readyz answer without a credential, even with Paliadin's routes off")
    func live() async throws {
        for enabled in [true, false] {
            try await TestHarness.withLiveServer(configure: { $0.enabled = enabled }) { _, client in
                let alive = try await client.request(.GET, "/healthz")
                #expect(alive.status == 200)
                #expect(alive.object["status"] as? String == "ok")
                let ready = try await client.request(.GET, "/readyz")
                #expect(ready.status == 200, "\(ready.body)")
                #expect(ready.object["status"] as? String == "ready")
                #expect(ready.object["database"] as? String == "ok")
                #expect(ready.object["accepting_turns"] as? Bool == true)
                #expect((ready.object["backends"] as? [String])?.isEmpty == false)
                #expect(ready.headers["cache-control"] == "no-store")
            }
        }
    }

    @Test("/readyz answers 503 when the database does not answer or shutdown has begun, and never shows why")
    func notReady() async throws {
        for (databaseUp, accepting) in [(false, true), (true, false)] {
            let router = Router(context: PaliadinRequestContext.self)
            HealthController(
                checkDatabase: { if !databaseUp { throw DatabaseDown() } }, isAccepting: { accepting }, backends: ["openai"],
                logger: Logger(label: "health-test")
            ).addRoutes(to: router)
            try await Application(router: router).test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let body = String(buffer: response.body)
                    let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
                    #expect(object["status"] as? String == "not_ready")
                    #expect(object["database"] as? String == (databaseUp ? "ok" : "unreachable"))
                    #expect(object["accepting_turns"] as? Bool == accepting)
                    #expect(!body.contains("s3cret") && !body.contains("db.internal"), "no detail of the failure: \(body)")
                }
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok, "alive even when not ready")
                }
            }
        }
    }
}
