@preconcurrency import Glibc
import CLinux
import SocketCore

/// epoll(7), the three calls the server needs, wrapped like the socket calls (EINTR retried,
/// failures thrown as `epoll_wait() failed: ...`, traced with `--trace`).
///
/// An epoll instance is a watch list kept in the kernel: sockets are added once, and a wait
/// returns only the ready ones, so a thousand idle keep-alive connections cost nothing.
public struct Epoll: Sendable {
    public let descriptor: Int32

    /// epoll_create1(2).
    public init() throws {
        descriptor = try Syscall.call("epoll_create1", "EPOLL_CLOEXEC") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    /// epoll_ctl(2) ADD (`add`) or MOD: report `fd` once when it has bytes (or a FIN) to read.
    /// EPOLLONESHOT disarms the watch after one report, so exactly one thread gets each ready
    /// socket; calling this again re-arms it. `token` comes back with the event.
    public func watchOnce(_ fd: Int32, token: UInt64, add: Bool) throws {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue
        event.data.u64 = token
        let op = add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
        _ = try Syscall.call("epoll_ctl", "epfd \(descriptor), \(add ? "EPOLL_CTL_ADD" : "EPOLL_CTL_MOD"), fd \(fd), EPOLLIN|EPOLLONESHOT") {
            epoll_ctl(descriptor, op, fd, &event)
        }
    }

    /// epoll_wait(2) for one ready socket: its token, or nil when `timeout` ms passed.
    public func waitForOne(timeout: Int32) throws -> UInt64? {
        var event = epoll_event()
        let count = try Syscall.call("epoll_wait", "epfd \(descriptor), 1, timeout \(timeout)") {
            epoll_wait(descriptor, &event, 1, timeout)
        }
        return count == 1 ? event.data.u64 : nil
    }
}
