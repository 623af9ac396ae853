import Foundation
import PaliadinServer
import PaliadinTestSupport
import Testing

@Suite("What the log never holds")
struct LogPrivacyTests {
    @Test("at trace level: no API token, session token or key, backend API key, or message text; each turn gets its line")
    func nothingSecret() async throws {
        let captured = CapturedLog()
        let apiKey = "sk-backend-key-never-logged-7f3a"
        let message = "my private question about invoice 99871"
        let answerMarker = "mock:chunks=3"
        try await TestHarness.withLiveServer(
            configure: {
                $0.apiKey = apiKey
                $0.sessionKey = HostApp.key
            }, logger: captured.logger(level: .trace)
        ) { harness, client in
            let sessionToken = try await HostApp.token()
            let turnID = try await client.startTurn("\(message) \(answerMarker)")
            _ = try await client.stream(turnID)
            let bySession = try await client.request(.GET, "/api/paliadin/history?session=s1", token: sessionToken)
            #expect(bySession.status == 200)
            _ = try await client.request(.GET, "/paliadin/session?token=\(sessionToken)")
            _ = try await client.request(.GET, "/api/paliadin/history?session=s1", token: "pal_forged-token-value")
            _ = try await client.request(.GET, "/api/paliadin/history?session=s1", headers: ["Cookie": "paliadin_session=\(sessionToken)x"])
            _ = try await client.waitUntilFinished(turnID)

            let lines = captured.all
            #expect(lines.contains { $0.contains("turn ended") && $0.contains(turnID) }, "one line per turn, with its id")
            let secrets = [
                ("the owner's API token", harness.ownerToken), ("a forged API token", "pal_forged-token-value"),
                ("the session token", sessionToken), ("the session key", HostApp.key), ("the backend API key", apiKey),
                ("the message text", "invoice 99871"),
            ]
            for (what, secret) in secrets {
                let leaks = lines.filter { $0.contains(secret) }
                #expect(leaks.isEmpty, "\(what) is in the log: \(leaks.prefix(2))")
            }
        }
    }
}
