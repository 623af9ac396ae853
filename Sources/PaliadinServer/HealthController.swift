import Hummingbird
import Logging

/// Probes for process managers and load balancers: `GET /healthz` (the process serves) and
/// `GET /readyz` (it can take turns). JSON, no credential, nothing secret in them.
struct HealthController {
    typealias Context = PaliadinRequestContext

    /// What `/readyz` says.
    struct Readiness: ResponseEncodable {
        /// `ready` or `not_ready`.
        let status: String
        /// `ok`, or `unreachable` (the reason goes to the log, not to the caller).
        let database: String
        /// False once shutdown has begun.
        let acceptingTurns: Bool
        /// The configured backends' names.
        let backends: [String]

        enum CodingKeys: String, CodingKey {
            case status, database, backends
            case acceptingTurns = "accepting_turns"
        }
    }

    struct Liveness: ResponseEncodable {
        let status: String
    }

    /// A trivial read of the database; throws when it does not answer.
    let checkDatabase: @Sendable () async throws -> Void
    let isAccepting: @Sendable () -> Bool
    let backends: [String]
    let logger: Logger

    func addRoutes(to router: Router<Context>) {
        router.get("healthz", use: liveness)
        router.get("readyz", use: readiness)
    }

    /// `GET /healthz`: 200 while the process serves requests.
    @Sendable func liveness(request: Request, context: Context) async throws -> Liveness {
        Liveness(status: "ok")
    }

    /// `GET /readyz`: 200 when the database answers, backends are configured and turns are
    /// taken; 503 otherwise, saying which.
    @Sendable func readiness(request: Request, context: Context) async throws -> EditedResponse<Readiness> {
        var database = "ok"
        do {
            try await checkDatabase()
        } catch {
            database = "unreachable"
            logger.warning("readiness: the database does not answer", metadata: ["error": "\(error)"])
        }
        let accepting = isAccepting()
        let ready = database == "ok" && accepting && !backends.isEmpty
        return EditedResponse(
            status: ready ? .ok : .serviceUnavailable,
            headers: [.cacheControl: "no-store"],
            response: Readiness(status: ready ? "ready" : "not_ready", database: database, acceptingTurns: accepting, backends: backends))
    }
}
