import Hummingbird
import HummingbirdAuth
import NIOCore

/// The request context of every Paliadin route: who is asking, and from where.
public struct PaliadinRequestContext: AuthRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by the authenticators.
    public var identity: PaliadinUser?
    /// The peer's address (the proxy's, behind a reverse proxy).
    public let remoteAddress: SocketAddress?
    /// The request's connection (event streams close it when their reader stalls).
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.identity = nil
        self.remoteAddress = source.channel.remoteAddress
        self.channel = source.channel
    }

    /// True when the peer is this machine.
    public var isLoopback: Bool {
        guard let ip = remoteAddress?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
