import Foundation
import Logging
import PaliadinBackends
import PaliadinCore
import PaliadinEngine
@testable import PaliadinServer
import Testing

@Suite("The OpenAPI document")
struct OpenAPIDocumentTests {
    @Test("it lists exactly the routes the server has (every setting on), and owners can fetch it")
    func matchesTheRouter() async throws {
        try await TestHarness.withLiveServer(configure: {
            $0.sessionKey = HostApp.key
            $0.corsOrigins = ["https://tools.example"]
        }) { harness, client in
            let reply = try await client.request(.GET, "/api/paliadin/openapi.json", token: harness.ownerToken)
            #expect(reply.status == 200)
            #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true)
            let document = try #require(reply.json as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented = Set<String>()
            for (path, operations) in paths {
                for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
            }

            let backend = OpenAICompatibleBackend(baseURL: "http://127.0.0.1:9/v1", model: "m", apiKey: nil, httpClient: .shared)
            let supervisor = TurnSupervisor(
                store: harness.store, backend: backend, conversation: ConversationBuilder(systemPrompt: "x"), logger: Logger(label: "test"))
            let sessions = try await SessionTokenVerifier(key: HostApp.key)
            let router = try buildRouter(
                harness.configuration, store: harness.store, supervisor: supervisor, sessions: sessions,
                streams: StalledStreamMonitor(timeout: nil, logger: Logger(label: "openapi-test")))
            let served = Set(router.routes.map { route in
                "\(route.method.rawValue) /" + route.path.components.map(\.description).joined(separator: "/")
            })
            #expect(documented == served, "only in the document: \(documented.subtracting(served)); only served: \(served.subtracting(documented))")

            let anonymous = try await client.request(.GET, "/api/paliadin/openapi.json")
            #expect(anonymous.status == 401)
            let asAsset = try await client.request(.GET, "/paliadin/assets/openapi.json")
            #expect(asAsset.status == 404, "not public through the assets route either")
        }
    }
}
