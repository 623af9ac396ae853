import Foundation
import JWTKit

/// Checks session tokens that the host app signs for its users: a JWT signed with HS256 and
/// the key shared with Paliadin (`PALIADIN_SESSION_KEY`), naming the user in `sub` and
/// ending at `exp`. Optional `nbf`, `iss` and `aud` are checked too.
public struct SessionTokenVerifier: Sendable {
    /// A token that passed every check.
    public struct Session: Sendable, Equatable {
        public let userID: String
        public let expiresAt: Date
    }

    /// Why a token was refused (for the caller's logs; clients only ever see 401).
    public enum Refusal: Error, Equatable {
        case malformed
        case badSignature
        case expired
        case notYetValid
        case wrongIssuer
        case wrongAudience
        case noSubject
    }

    /// The shortest key accepted: HS256 with fewer than 256 bits of key is guessable.
    public static let minimumKeyBytes = 32

    /// A key too short to be safe.
    public struct ShortKey: Error, CustomStringConvertible {
        public init() {}

        public var description: String {
            "the session key must be at least \(SessionTokenVerifier.minimumKeyBytes) bytes (e.g. openssl rand -base64 48)"
        }
    }
    /// Clock difference tolerated between the host app and Paliadin for `nbf`.
    public static let notBeforeLeeway: TimeInterval = 30

    private let keys: JWTKeyCollection
    private let issuer: String?
    private let audience: String?
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - key: the shared secret, at least `minimumKeyBytes` bytes.
    ///   - issuer: when set, tokens must carry this `iss`.
    ///   - audience: when set, tokens must list this in `aud`.
    ///   - now: the clock expiry is checked against.
    /// - Throws: `ShortKey` for a key under `minimumKeyBytes`.
    public init(key: String, issuer: String? = nil, audience: String? = nil, now: @escaping @Sendable () -> Date = { Date() }) async throws {
        guard key.utf8.count >= Self.minimumKeyBytes else { throw ShortKey() }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: key), digestAlgorithm: .sha256)
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.now = now
    }

    /// The session a token stands for, or why it is refused.
    public func verify(_ token: String) async -> Result<Session, Refusal> {
        let claims: SessionClaims
        do {
            claims = try await keys.verify(token, as: SessionClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            return .failure(.badSignature)
        } catch {
            return .failure(.malformed)
        }
        let now = now()
        guard claims.exp.value > now else { return .failure(.expired) }
        if let nbf = claims.nbf, nbf.value > now.addingTimeInterval(Self.notBeforeLeeway) { return .failure(.notYetValid) }
        if let issuer, claims.iss?.value != issuer { return .failure(.wrongIssuer) }
        if let audience, claims.aud?.value.contains(audience) != true { return .failure(.wrongAudience) }
        let user = claims.sub.value.trimmingCharacters(in: .whitespaces)
        guard !user.isEmpty, user.count <= 320 else { return .failure(.noSubject) }
        return .success(Session(userID: user, expiresAt: claims.exp.value))
    }
}

/// The claims Paliadin reads. `sub` and `exp` are required: a session that never ends is refused.
struct SessionClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    /// The checks need the verifier's clock and settings: `SessionTokenVerifier.verify` does them.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
