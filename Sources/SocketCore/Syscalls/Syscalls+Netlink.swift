@preconcurrency import Glibc

/// Netlink: the socket family the kernel answers questions through. `ss` asks NETLINK_SOCK_DIAG
/// for the socket table; so do we. No root needed: any user may read the table (as `ss` shows it).
/// Wrapped like the socket calls: EINTR retried, a `SocketError` naming the call, traced.
extension Syscall {
    /// `NETLINK_SOCK_DIAG` from `<linux/netlink.h>` (not exported by Swift's Glibc module).
    public static let netlinkSockDiag: Int32 = 4

    /// socket(2) with `AF_NETLINK`, `SOCK_DGRAM`: a socket whose peer is the kernel itself.
    public static func netlinkSocket(protocol netlinkProtocol: Int32) throws -> Int32 {
        let type = Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try call("socket", "AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG", result: { "fd \($0)" }) {
            Glibc.socket(AF_NETLINK, type, netlinkProtocol)
        }
    }

    /// sendto(2) to the kernel (netlink port id 0): one request message, header included.
    /// `struct sockaddr_nl` is 12 bytes: family, padding, port id (0: the kernel), multicast groups.
    public static func sendToKernel(_ fd: Int32, _ message: UnsafeRawBufferPointer) throws {
        var kernel = sockaddr_storage()   // zeroed: port id 0, no groups
        kernel.ss_family = sa_family_t(AF_NETLINK)
        _ = try call("sendto", "fd \(fd), \(message.count) bytes, netlink kernel", result: { "\($0)" }) {
            withUnsafePointer(to: &kernel) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.sendto(fd, message.baseAddress, message.count, 0, $0, 12)
                }
            }
        }
    }
}
