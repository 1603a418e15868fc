@preconcurrency import Glibc
import SocketCore

/// Asks the kernel for its TCP socket table over NETLINK_SOCK_DIAG, as `ss -tan` does. No root.
///
/// One request per address family (`SOCK_DIAG_BY_FAMILY`, `NLM_F_DUMP`), answered by a stream of
/// `inet_diag_msg`s ending with `NLMSG_DONE`:
///
///     request:  nlmsghdr (16 bytes)  | inet_diag_req_v2 (56 bytes)
///               len type flags seq pid | family proto ext pad states | inet_diag_sockid (48)
///     answer:   nlmsghdr | family state timer retrans | sockid (48) | expires rqueue wqueue uid inode
///
/// All host byte order, except the ports and addresses in `inet_diag_sockid` (network order).
public final class SockDiag {
    static let sockDiagByFamily: UInt16 = 20
    static let done: UInt16 = 3, error: UInt16 = 2
    static let request: UInt16 = 0x1, dump: UInt16 = 0x300

    private let fd: Int32
    private var sequence: UInt32 = 0
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)

    public init() throws {
        fd = try Syscall.netlinkSocket(protocol: Syscall.netlinkSockDiag)
    }

    deinit { try? Syscall.close(fd) }

    /// The TCP sockets in `states`, IPv4 then IPv6.
    public func sockets(in states: [TCPState]) throws -> [DiagSocket] {
        let mask = states.reduce(UInt32(0)) { $0 | $1.diagBit }
        return try query(family: UInt8(AF_INET), states: mask) + query(family: UInt8(AF_INET6), states: mask)
    }

    /// The one socket (full, request or timewait) holding this 4-tuple now, or nil.
    ///
    /// A dump walks the kernel's hash table in several pieces and is no snapshot: sockets that come
    /// and go meanwhile (thousands of TIME_WAITs from a burst) can be skipped. A lookup by the
    /// exact 4-tuple is not: the kernel answers with that socket, or ENOENT.
    public func socket(local: String, lport: Int, remote: String, rport: Int) throws -> DiagSocket? {
        guard let source = IPText.parse(local, unmappingIPv4: true), let destination = IPText.parse(remote, unmappingIPv4: true),
              source.count == destination.count else { return nil }
        var id = [UInt8(lport >> 8 & 0xff), UInt8(lport & 0xff), UInt8(rport >> 8 & 0xff), UInt8(rport & 0xff)]
        id += source + [UInt8](repeating: 0, count: 16 - source.count)
        id += destination + [UInt8](repeating: 0, count: 16 - destination.count)
        id += [0, 0, 0, 0] + [UInt8](repeating: 0xff, count: 8)   // any interface; INET_DIAG_NOCOOKIE
        let family = UInt8(source.count == 4 ? AF_INET : AF_INET6)
        try send(family: family, states: ~0, flags: Self.request, id: id)
        while true {   // the answer carries our sequence number; anything else is an older answer
            let count = try buffer.withUnsafeMutableBytes { try Syscall.recv(fd, into: $0) }
            guard count >= 16, buffer.little(UInt32.self, at: 8) == sequence else { continue }
            if buffer.little(UInt16.self, at: 4) == Self.error || count < 16 + 72 { return nil }   // ENOENT: none
            return Self.decode(buffer[16..<(16 + 72)])
        }
    }

    private func query(family: UInt8, states: UInt32) throws -> [DiagSocket] {
        try send(family: family, states: states, flags: Self.request | Self.dump, id: [UInt8](repeating: 0, count: 48))
        return try readDump()
    }

    /// One `SOCK_DIAG_BY_FAMILY` request: the netlink header, then `inet_diag_req_v2`.
    private func send(family: UInt8, states: UInt32, flags: UInt16, id: [UInt8]) throws {
        sequence &+= 1
        var message = [UInt8]()
        message.appendLittle(UInt32(72))                       // nlmsg_len
        message.appendLittle(Self.sockDiagByFamily)            // nlmsg_type
        message.appendLittle(flags)                            // nlmsg_flags
        message.appendLittle(sequence)                         // nlmsg_seq
        message.appendLittle(UInt32(0))                        // nlmsg_pid
        message += [family, UInt8(IPPROTO_TCP), 0, 0]          // sdiag_family, protocol, ext, pad
        message.appendLittle(states)                           // idiag_states
        message += id                                          // inet_diag_sockid (48 bytes)
        try message.withUnsafeBytes { try Syscall.sendToKernel(fd, $0) }
    }

    /// Reads answers until NLMSG_DONE; an NLMSG_ERROR carries a negative errno.
    private func readDump() throws -> [DiagSocket] {
        var sockets: [DiagSocket] = []
        while true {
            let count = try buffer.withUnsafeMutableBytes { try Syscall.recv(fd, into: $0) }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(buffer.little(UInt32.self, at: offset))
                let type = buffer.little(UInt16.self, at: offset + 4)
                guard length >= 16, offset + length <= count else { return sockets }
                if buffer.little(UInt32.self, at: offset + 8) != sequence { break }   // an older answer
                if type == Self.done { return sockets }
                if type == Self.error {
                    let code = -Int32(bitPattern: buffer.little(UInt32.self, at: offset + 16))
                    if code == 0 { return sockets }
                    throw SocketError(call: "sock_diag", errno: Errno(rawValue: code))
                }
                if let socket = Self.decode(buffer[(offset + 16)..<(offset + length)]) { sockets.append(socket) }
                offset += (length + 3) & ~3   // NLMSG_ALIGN
            }
        }
    }

    /// One `inet_diag_msg` (72 bytes; attributes after it are not requested).
    static func decode(_ bytes: ArraySlice<UInt8>) -> DiagSocket? {
        guard bytes.count >= 72, let state = TCPState(rawValue: Int(bytes[bytes.startIndex + 1])) else { return nil }
        let base = bytes.startIndex
        let family = Int32(bytes[base])
        let bytesArray = Array(bytes)
        func address(_ at: Int) -> String {
            IPText.format(Array(bytesArray[at..<(at + (family == AF_INET6 ? 16 : 4))]))
        }
        return DiagSocket(state: state, local: address(8), localPort: Int(bytesArray.big16(at: 4)),
                          remote: address(24), remotePort: Int(bytesArray.big16(at: 6)),
                          expiresMilliseconds: Int(bytesArray.little(UInt32.self, at: 52)),
                          receiveQueue: Int(bytesArray.little(UInt32.self, at: 56)),
                          sendQueue: Int(bytesArray.little(UInt32.self, at: 60)))
    }
}

extension Array where Element == UInt8 {
    mutating func appendLittle<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    func little<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value = T.zero
        for index in (0..<MemoryLayout<T>.size).reversed() { value = value << 8 | T(self[offset + index]) }
        return value
    }

    func big16(at offset: Int) -> UInt16 { UInt16(self[offset]) << 8 | UInt16(self[offset + 1]) }
}
