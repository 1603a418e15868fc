@preconcurrency import Glibc
import SocketCore
import Testing

@Suite("SocketAddress")
struct SocketAddressTests {
    @Test("IPv4 literals print as host:port, in network byte order inside")
    func ipv4Literal() throws {
        let address = try #require(SocketAddress(ip: "127.0.0.1", port: 5000))
        #expect(address.family == AF_INET)
        #expect(address.port == 5000)
        #expect(address.ip == "127.0.0.1")
        #expect("\(address)" == "127.0.0.1:5000")
        guard case .ipv4(let raw) = address else { Issue.record("not IPv4"); return }
        #expect(raw.sin_port == in_port_t(5000).bigEndian)   // 5000 = 0x1388, sent as 13 88
        #expect(raw.sin_addr.s_addr == UInt32(0x7F00_0001).bigEndian)
    }

    @Test("IPv6 literals print as [v6]:port, with or without brackets given")
    func ipv6Literal() throws {
        for text in ["::1", "[::1]"] {
            let address = try #require(SocketAddress(ip: text, port: 8080))
            #expect(address.family == AF_INET6)
            #expect("\(address)" == "[::1]:8080")
        }
        #expect("\(try #require(SocketAddress(ip: "2001:db8:0:0:0:0:0:1", port: 1)))" == "[2001:db8::1]:1")
        #expect("\(try #require(SocketAddress(ip: "::ffff:10.0.0.1", port: 2)))" == "[::ffff:10.0.0.1]:2")
    }

    @Test("wildcards, equality and hashing go by family, address and port")
    func wildcardAndEquality() throws {
        #expect(SocketAddress(ip: "0.0.0.0", port: 0)?.isWildcard == true)
        #expect(SocketAddress(ip: "::", port: 0)?.isWildcard == true)
        #expect(SocketAddress(ip: "127.0.0.1", port: 0)?.isWildcard == false)
        #expect(SocketAddress(ip: "127.0.0.1", port: 1) == SocketAddress(ip: "127.0.0.1", port: 1))
        #expect(SocketAddress(ip: "127.0.0.1", port: 1) != SocketAddress(ip: "127.0.0.1", port: 2))
        #expect(Set([SocketAddress(ip: "::1", port: 1), SocketAddress(ip: "::1", port: 1)]).count == 1)
    }

    @Test("not literals: names, bad octets, ports out of range", arguments: [
        ("localhost", 80), ("999.1.1.1", 80), ("1.2.3", 80), ("::1::2", 80), ("", 80), ("127.0.0.1", 65536), ("127.0.0.1", -1),
    ])
    func notALiteral(text: String, port: Int) {
        #expect(SocketAddress(ip: text, port: port) == nil)
    }

    @Test("host names resolve through getaddrinfo(3)")
    func hostNames() throws {
        let addresses = try SocketAddress.resolve(host: "localhost", port: 7)
        #expect(!addresses.isEmpty)
        #expect(addresses.contains { $0.ip == "127.0.0.1" || $0.ip == "::1" })
        #expect(addresses.allSatisfy { $0.port == 7 })
        #expect(Set(addresses).count == addresses.count, "no duplicates (one per socket type)")
        #expect(try SocketAddress.resolve(host: "::1", port: 9) == [SocketAddress(ip: "::1", port: 9)!])
    }

    @Test("a host that does not resolve is a getaddrinfo error naming its EAI_ code")
    func badHost() throws {
        let error = try #require(throws: SocketError.self) {
            try SocketAddress.resolve(host: "no-such-host.invalid", port: 80)
        }
        #expect(error.call == "getaddrinfo")
        #expect(error.codeName.hasPrefix("EAI_"))   // EAI_NONAME, or EAI_AGAIN without a resolver
        #expect("\(error)".hasPrefix("getaddrinfo() failed: EAI_"))
    }

    @Test("a port outside 0...65535 fails before any lookup")
    func badPort() throws {
        let error = try #require(throws: SocketError.self) { try SocketAddress.resolve(host: "127.0.0.1", port: 70000) }
        #expect("\(error)" == "getaddrinfo() failed: EAI_SERVICE (port 70000 is not in 0...65535)")
    }

    @Test("local and peer addresses come back from the kernel (getsockname/getpeername)")
    func localAndPeer() throws {
        let pair = try LoopbackPair()
        let clientLocal = try #require(pair.client.localAddress)
        #expect(pair.client.peerAddress == pair.listener.localAddress)
        #expect(pair.server.peerAddress == clientLocal)
        #expect(pair.peerSeenByAccept == clientLocal)
        #expect(pair.server.localAddress == pair.listener.localAddress)
    }
}
