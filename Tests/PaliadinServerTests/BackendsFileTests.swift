import Foundation
import PaliadinServer
import PaliadinTestSupport
import Testing

@Suite("The backends file, and choosing a backend per turn")
struct BackendsFileTests {
    @Test("a valid file: backends in order, the default, keys named by environment variable")
    func valid() throws {
        let file = try BackendsFileLoader.parse(
            """
            default: claude
            backends:
              - name: local
                type: openai
                url: http://127.0.0.1:8081/v1
                model: smollm2
              - name: claude
                type: anthropic
                model: claude-sonnet-4-5
                api_key_env: ANTHROPIC_API_KEY
                max_tokens: 2048
            """)
        #expect(file.default == "claude")
        #expect(
            file.backends == [
                BackendSpec(name: "local", type: .openai, url: "http://127.0.0.1:8081/v1", model: "smollm2"),
                BackendSpec(name: "claude", type: .anthropic, model: "claude-sonnet-4-5", apiKeyEnv: "ANTHROPIC_API_KEY", maxTokens: 2048),
            ])
    }

    @Test("mistakes are refused with a message that says what to fix")
    func invalid() {
        let cases: [(String, String)] = [
            ("backends: []", "lists no backend"),
            ("backends: [{name: a, type: openai, model: m}]", "needs a url"),
            ("backends: [{name: a, type: gopher, url: 'http://x', model: m}]", "does not fit the format"),
            ("backends: [{name: a, type: openai, url: 'ftp://x', model: m}]", "must start with http"),
            ("backends: [{name: 'a b', type: openai, url: 'http://x', model: m}]", "letters, digits"),
            ("backends: [{name: a, type: openai, url: 'http://x', model: m}, {name: a, type: openai, url: 'http://y', model: m}]", "two backends"),
            ("default: z\nbackends: [{name: a, type: openai, url: 'http://x', model: m}]", "is not in the list"),
            ("backends: [{name: a, type: openai, url: 'http://x'}]", "needs a model"),
            ("backends: [{type: openai, url: 'http://x', model: m}]", "missing 'name'"),
            ("backends: [{name: a, type: anthropic, model: m, max_tokens: 0}]", "max_tokens"),
            ("backends: {", "not valid YAML"),
        ]
        for (text, expected) in cases {
            #expect(throws: BackendsFileError.self, "\(text)") { try BackendsFileLoader.parse(text) }
            let message = (try? BackendsFileLoader.parse(text)).map { _ in "" } ?? {
                do { _ = try BackendsFileLoader.parse(text) } catch { return "\(error)" }
                return ""
            }()
            #expect(message.contains(expected), "\(text): \(message)")
        }
    }

    @Test("a cli backend from the file runs its command per turn, the prompt on standard input")
    func cliBackend() async throws {
        let file = try BackendsFileLoader.parse(
            """
            backends:
              - name: echo-agent
                type: cli
                format: text
                command: [/bin/sh, -c, "printf 'agent heard: '; tail -n 1"]
            """)
        try await TestHarness.withLiveServer(configure: { $0.backendsFile = file }) { harness, client in
            let started = try await client.request(.POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"ping"}"#)
            let id = try #require(started.object["turn_id"] as? String)
            _ = try await client.request(.GET, "/api/paliadin/stream/\(id)", token: harness.ownerToken)
            let row = try #require(try await harness.store.recentTurns(limit: 1).first)
            #expect(row.status == .completed, "\(row.errorMessage ?? "")")
            #expect(row.backend == "echo-agent")
            #expect(row.response.hasPrefix("agent heard: ") && row.response.contains("ping"), "\(row.response)")
        }
        let broken = try BackendsFileLoader.parse("backends: [{name: b, type: cli, command: []}]")
        var configuration = AppConfiguration()
        configuration.backendsFile = broken
        await #expect(throws: BackendsFileError.self) { try await BackendCheck.run(configuration) }
    }

    @Test("backends check: what answers, what does not, and why")
    func check() async throws {
        try await MockOpenAIUpstream().run { baseURL in
            var configuration = AppConfiguration()
            configuration.backendsFile = BackendsFile(
                default: "up",
                backends: [
                    BackendSpec(name: "up", type: .openai, url: baseURL, model: "m"),
                    BackendSpec(name: "down", type: .openai, url: "http://127.0.0.1:9/v1", model: "m"),
                ])
            let results = try await BackendCheck.run(configuration, timeout: .seconds(10))
            #expect(results.map(\.name) == ["up", "down"])
            #expect(results[0].answered && results[0].isDefault && results[0].firstTextMS != nil)
            #expect(results[0].detail == MockOpenAIUpstream.defaultAnswer)
            #expect(!results[1].answered && results[1].detail.hasPrefix("backend_unavailable"), "\(results[1].detail)")
        }
    }

    @Test("a turn names a configured backend; the row and the request show it; an unknown one is a 400")
    func routing() async throws {
        let upstream = MockOpenAIUpstream()
        try await TestHarness.withLiveServer(
            upstream: upstream,
            configure: { configuration in
                configuration.backendsFile = BackendsFile(
                    default: "small",
                    backends: [
                        BackendSpec(name: "small", type: .openai, url: configuration.backendURL, model: "model-s"),
                        BackendSpec(name: "large", type: .openai, url: configuration.backendURL, model: "model-l"),
                    ])
            }
        ) { harness, client in
            let chosen = try await client.request(
                .POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"hello","backend":"large"}"#)
            #expect(chosen.status == 200)
            let byDefault = try await client.request(.POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"hello"}"#)
            for reply in [chosen, byDefault] {
                let id = try #require(reply.object["turn_id"] as? String)
                _ = try await client.request(.GET, "/api/paliadin/stream/\(id)", token: harness.ownerToken)
            }
            let rows = try await harness.store.recentTurns(limit: 2)
            #expect(Set(rows.map(\.backend)) == ["small", "large"])
            #expect(Set(rows.map(\.model)) == ["model-s", "model-l"])
            #expect(Set(upstream.requests.map(\.model)) == ["model-s", "model-l"])
            let unknown = try await client.request(
                .POST, "/api/paliadin/turn", token: harness.ownerToken, body: #"{"user_message":"hello","backend":"huge"}"#)
            #expect(unknown.status == 400)
            #expect(unknown.object["error"] as? String == "unknown backend 'huge'; configured: small, large")
            #expect(try await harness.store.recentTurns(limit: 10).count == 2, "nothing is written for a refused turn")
        }
    }
}
