@preconcurrency import Glibc
import CLinux

/// The calls that build a lab network inside one machine: network namespaces (setns(2)) and TUN
/// devices (/dev/net/tun, ioctl(2) TUNSETIFF). A TUN device is a network interface whose other
/// side is a file descriptor: every IP packet the kernel routes to it comes out of read(2), and
/// every packet written to the descriptor enters the kernel as if it had arrived on the wire.
/// Wrapped like the socket calls: EINTR retried, a `SocketError` naming the call, traced.
extension Syscall {
    /// open(2) of a network namespace's file (`/run/netns/NAME`, `/proc/self/ns/net`), to pass to setns.
    public static func openNamespace(_ path: String) throws -> Int32 {
        try call("open", "\"\(path)\", O_RDONLY", result: { "fd \($0)" }) {
            Glibc.open(path, O_RDONLY | O_CLOEXEC)
        }
    }

    /// setns(2) with CLONE_NEWNET: moves the calling *thread* into the network namespace `fd`
    /// refers to. Sockets and TUN devices it creates from now on belong to that namespace.
    public static func setNetworkNamespace(_ fd: Int32) throws {
        _ = try call("setns", "fd \(fd), CLONE_NEWNET") { sockettutor_setns_net(fd) }
    }

    /// open(2) of `/dev/net/tun`, then ioctl(2) TUNSETIFF with IFF_TUN | IFF_NO_PI: creates the TUN
    /// device `name` in the calling thread's network namespace and returns its descriptor,
    /// non-blocking (a read with nothing queued returns EAGAIN). The device lives as long as the
    /// descriptor: when the process ends, even by SIGKILL, the kernel removes it.
    public static func openTun(named name: String) throws -> Int32 {
        let fd = try call("open", "\"/dev/net/tun\", O_RDWR | O_NONBLOCK", result: { "fd \($0)" }) {
            Glibc.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        }
        do {
            _ = try call("ioctl", "fd \(fd), TUNSETIFF, \"\(name)\", IFF_TUN | IFF_NO_PI") {
                sockettutor_tun_set_iff(fd, name)
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// lstat(2)'s inode number of `path`, or nil when it does not exist (ENOENT). For
    /// `/run/netns/NAME` this is the namespace's own identity (an nsfs inode), which no other
    /// namespace shares while it lives.
    public static func inode(of path: String) throws -> UInt64? {
        var info = stat()
        do {
            _ = try call("lstat", "\"\(path)\"", traced: false) { Glibc.lstat(path, &info) }
        } catch let error as SocketError where error.errno == Errno(rawValue: ENOENT) {
            return nil
        }
        return UInt64(info.st_ino)
    }

    /// read(2) that returns nil instead of blocking: "nothing to read now" is a value, not an
    /// error, for a descriptor opened O_NONBLOCK (a TUN device, a signalfd).
    @inline(__always)
    public static func readIfReady(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int? {
        let span = Trace.begin()
        while true {
            let got = Glibc.read(fd, buffer, count)
            if got >= 0 {
                span?.end("read(fd \(fd), \(count)) -> \(got)")
                return got
            }
            let error = Errno.current
            if error == .interrupted { continue }
            span?.end("read(fd \(fd), \(count)) -> \(error)")
            if error == .wouldBlock { return nil }
            throw SocketError(call: "read", errno: error)
        }
    }

    /// write(2) of one packet to a TUN descriptor: one write is one packet. Returns nil when the
    /// kernel would block (EAGAIN), which a TUN device reports when it cannot take the packet now.
    @inline(__always)
    public static func writeIfReady(_ fd: Int32, _ buffer: UnsafeRawPointer, count: Int) throws -> Int? {
        let span = Trace.begin()
        while true {
            let put = Glibc.write(fd, buffer, count)
            if put >= 0 {
                span?.end("write(fd \(fd), \(count)) -> \(put)")
                return put
            }
            let error = Errno.current
            if error == .interrupted { continue }
            span?.end("write(fd \(fd), \(count)) -> \(error)")
            if error == .wouldBlock { return nil }
            throw SocketError(call: "write", errno: error)
        }
    }
}
