import NIOCore
import PaliadinServer
import Testing

@Suite("Identity from a trusted reverse proxy")
struct ProxyIdentityTests {
    @Test("address ranges: single addresses, CIDR blocks, IPv6, IPv4-mapped peers, and clear refusals")
    func ranges() throws {
        // Literal addresses: a failure to parse one is a broken test.
        func peer(_ ip: String) -> SocketAddress { try! SocketAddress(ipAddress: ip, port: 4000) }
        let loopback = try #require(AddressRange("127.0.0.1"))
        #expect(loopback.contains(peer("127.0.0.1")))
        #expect(!loopback.contains(peer("127.0.0.2")))
        #expect(loopback.contains(peer("::ffff:127.0.0.1")), "an IPv4 peer on a dual-stack socket")
        let private10 = try #require(AddressRange(" 10.0.0.0/8 "))
        #expect(private10.contains(peer("10.200.3.4")))
        #expect(!private10.contains(peer("11.0.0.1")))
        #expect(!private10.contains(peer("::1")))
        let odd = try #require(AddressRange("192.168.1.77/27"))
        #expect(odd.description == "192.168.1.64/27", "host bits are cleared")
        #expect(odd.contains(peer("192.168.1.95")))
        #expect(!odd.contains(peer("192.168.1.96")))
        let v6 = try #require(AddressRange("fd00::/8"))
        #expect(v6.contains(peer("fd12:3456::1")))
        #expect(!v6.contains(peer("fe80::1")))
        #expect(AddressRange("::1")?.contains(peer("::1")) == true)
        #expect(AddressRange("0.0.0.0/0")?.contains(peer("203.0.113.9")) == true)
        for bad in ["", "proxy.example.com", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "::1/129", "10.0.0.0/+8", "300.1.1.1"] {
            #expect(AddressRange(bad) == nil, "\(bad)")
        }
    }

    @Test("a trusted proxy's user header signs the user in; owners get through, others 404, no header 401")
    func trustedProxy() async throws {
        try await TestHarness.withLiveServer(configure: { $0.trustedProxies = [AddressRange("127.0.0.1")!] }) { harness, client in
            let path = "/api/paliadin/history?session=x"
            let owner = try await client.request(.GET, path, headers: ["X-Forwarded-User": " Owner@Example.com "])
            #expect(owner.status == 200, "names compare as the owner list does")
            let stranger = try await client.request(.GET, path, headers: ["X-Forwarded-User": TestHarness.stranger])
            #expect(stranger.status == 404)
            let nobody = try await client.request(.GET, path)
            #expect(nobody.status == 401)
            let blank = try await client.request(.GET, path, headers: ["X-Forwarded-User": "  "])
            #expect(blank.status == 401)
            // A bearer token still names its own user, whatever the header says.
            let token = try await client.request(.GET, path, token: harness.strangerToken, headers: ["X-Forwarded-User": TestHarness.owner])
            #expect(token.status == 404)
        }
    }

    @Test("the header from a peer that is not a trusted proxy, or with no proxy configured, lets no one in")
    func untrustedPeer() async throws {
        try await TestHarness.withLiveServer(configure: { $0.trustedProxies = [AddressRange("10.0.0.0/8")!] }) { _, client in
            let reply = try await client.request(.GET, "/api/paliadin/history?session=x", headers: ["X-Forwarded-User": TestHarness.owner])
            #expect(reply.status == 401)
        }
        try await TestHarness.withLiveServer { _, client in
            let reply = try await client.request(.GET, "/api/paliadin/history?session=x", headers: ["X-Forwarded-User": TestHarness.owner])
            #expect(reply.status == 401)
        }
    }

    @Test("the header's name is configurable; the default one is then ignored")
    func customHeader() async throws {
        try await TestHarness.withLiveServer(configure: {
            $0.trustedProxies = [AddressRange("127.0.0.0/8")!]
            $0.proxyUserHeader = "Remote-User"
        }) { _, client in
            let path = "/api/paliadin/history?session=x"
            let named = try await client.request(.GET, path, headers: ["Remote-User": TestHarness.owner])
            #expect(named.status == 200)
            let defaultHeader = try await client.request(.GET, path, headers: ["X-Forwarded-User": TestHarness.owner])
            #expect(defaultHeader.status == 401)
        }
    }
}
