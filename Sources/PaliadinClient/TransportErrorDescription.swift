import AsyncHTTPClient
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Short, readable descriptions of the errors a connection can fail with.
enum TransportErrorDescription {
    /// What went wrong, in a few words: "connection refused", "no data for too long", ...
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return describe(failure.error) }
            if let dnsError = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve \(error.host): \(dnsError)" }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset"
            case ETIMEDOUT: return "connection timed out"
            case EHOSTUNREACH, ENETUNREACH: return "no route to host"
            default: return error.description
            }
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout: return "connect timed out"
            case .readTimeout: return "no data for too long"
            case .remoteConnectionClosed: return "the server closed the connection"
            case .deadlineExceeded: return "no answer in time"
            case .cancelled: return "cancelled"
            default: return String(describing: error)
            }
        case let error as ChannelError:
            if case .connectTimeout = error { return "connect timed out" }
            return String(describing: error)
        default:
            return String(describing: error)
        }
    }
}
