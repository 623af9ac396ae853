import Foundation
import NIOCore

/// An IP address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`): the addresses of
/// reverse proxies whose identity headers are believed.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    /// The network's bytes: 4 for IPv4, 16 for IPv6.
    public let network: [UInt8]
    /// How many leading bits must match.
    public let prefixLength: Int

    /// Parses `address` or `address/prefix`; nil for anything else (host names included:
    /// trust is given to addresses, never to names that DNS could repoint).
    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = try? SocketAddress(ipAddress: String(parts[0]), port: 0),
            let bytes = Self.bytes(of: address)
        else { return nil }
        let length: Int
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), (0...bytes.count * 8).contains(parsed), parts[1].allSatisfy(\.isNumber) else { return nil }
            length = parsed
        } else {
            length = bytes.count * 8
        }
        self.network = Self.masked(bytes, to: length)
        self.prefixLength = length
    }

    /// True when `address` lies in this range. An IPv4 peer seen as an IPv4-mapped IPv6
    /// address (`::ffff:10.1.2.3`) matches IPv4 ranges.
    public func contains(_ address: SocketAddress) -> Bool {
        guard var bytes = Self.bytes(of: address) else { return false }
        if bytes.count == 16, network.count == 4, bytes.prefix(12).elementsEqual(Self.mappedPrefix) {
            bytes = Array(bytes.suffix(4))
        }
        guard bytes.count == network.count else { return false }
        return Self.masked(bytes, to: prefixLength) == network
    }

    public var description: String {
        guard let address = try? SocketAddress(packedIPAddress: ByteBuffer(bytes: network), port: 0), let ip = address.ipAddress else {
            return "?"
        }
        return prefixLength == network.count * 8 ? ip : "\(ip)/\(prefixLength)"
    }

    /// `::ffff:0:0/96`, the IPv6 form of IPv4 addresses.
    private static let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xff, 0xff]

    private static func bytes(of address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }

    private static func masked(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(length - index * 8, 0), 8)
            return bits == 8 ? byte : byte & ~(0xff >> UInt8(bits))
        }
    }
}
