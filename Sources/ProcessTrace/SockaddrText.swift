@preconcurrency import Glibc

/// A `struct sockaddr` read from a tracee's memory, decoded as strace `-yy` shows it and as our
/// own `--trace` prints addresses: `127.0.0.1:5000`, `[::1]:5000`, `"/run/app.sock"`,
/// `"@abstract"` (an abstract AF_UNIX name, which starts with a NUL byte).
///
/// The kernel reads only `addrlen` bytes, so the decoder does too: a length shorter than the
/// family's struct is shown as such (`AF_INET, addrlen 8 of 16`), never filled with guesses.
public struct SockaddrText: Sendable, Equatable {
    public enum Family: Sendable, Equatable { case inet, inet6, unix, other(Int) }

    public var family: Family
    /// The text for a call's line.
    public var text: String
    /// The numeric address (`127.0.0.1`, `::1`) and port, for IPv4 and IPv6.
    public var ip: String?
    public var port: Int?

    /// Decodes `bytes`: exactly the `addrlen` bytes the program passed (or the kernel wrote).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return nil }
        let family = Int32(UInt16(bytes[0]) | UInt16(bytes[1]) << 8)
        switch family {
        case AF_INET:
            self.family = .inet
            guard bytes.count >= 8 else {
                text = "AF_INET, addrlen \(bytes.count) of 16"
                return
            }
            let port = Int(bytes[2]) << 8 | Int(bytes[3])
            let ip = bytes[4..<8].map(String.init).joined(separator: ".")
            (self.ip, self.port, text) = (ip, port, "\(ip):\(port)")
        case AF_INET6:
            self.family = .inet6
            guard bytes.count >= 24 else {
                text = "AF_INET6, addrlen \(bytes.count) of 28"
                return
            }
            let port = Int(bytes[2]) << 8 | Int(bytes[3])
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes[8..<24]) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            let ip = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            (self.ip, self.port, text) = (ip, port, "[\(ip)]:\(port)")
        case AF_UNIX:
            self.family = .unix
            let path = bytes.dropFirst(2)
            if path.isEmpty {
                text = "AF_UNIX, unnamed"
            } else if path.first == 0 {
                // Abstract: every byte of addrlen counts, NULs included; shown with a leading @.
                text = "\"@" + Self.printable(path.dropFirst()) + "\""
            } else {
                text = "\"" + Self.printable(path.prefix { $0 != 0 }) + "\""
            }
        default:
            self.family = .other(Int(family))
            text = "family \(family)"
        }
    }

    /// `host:port` of a connection end, as packets show it: `127.0.0.1:5000`, `[::1]:5000`.
    public var endpoint: String? { ip.flatMap { ip in port.map { family == .inet6 ? "[\(ip)]:\($0)" : "\(ip):\($0)" } } }

    /// Bytes as text, control characters and non-ASCII escaped (`\x00`): a path from another
    /// program reaches no terminal raw.
    static func printable(_ bytes: some Collection<UInt8>) -> String {
        var out = ""
        for byte in bytes.prefix(108) {
            switch byte {
            case 0x20..<0x7F where byte != 0x22 && byte != 0x5C: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return out
    }
}
