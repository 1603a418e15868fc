@preconcurrency import Glibc
import CLinux

/// epoll(7), wrapped like the socket calls: EINTR retried, a failure thrown as
/// `epoll_ctl() failed: EBADF (Bad file descriptor)`, every call traced with `--trace`.
///
/// An epoll instance is a watch list kept in the kernel. A socket is added once with the events
/// it should report; `epoll_wait` then returns only the sockets that are ready, so ten thousand
/// idle connections cost no time, only their entries in the list.
extension Syscall {
    /// epoll_create1(2) with EPOLL_CLOEXEC: a new, empty watch list.
    public static func epollCreate() throws -> Int32 {
        try call("epoll_create1", "EPOLL_CLOEXEC") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    /// epoll_ctl(2): EPOLL_CTL_ADD, EPOLL_CTL_MOD or EPOLL_CTL_DEL `fd` in the list `epfd`.
    /// `events` is a mask such as EPOLLIN|EPOLLONESHOT; `data` comes back with each report.
    public static func epollCtl(_ epfd: Int32, _ operation: Int32, _ fd: Int32, events: UInt32, data: UInt64) throws {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        _ = try call("epoll_ctl", "epfd \(epfd), \(operationName(operation)), fd \(fd), \(eventNames(events))") {
            epoll_ctl(epfd, operation, fd, &event)
        }
    }

    /// epoll_wait(2): fills `events` with up to `events.count` ready entries, waiting at most
    /// `timeout` ms (-1: forever). Returns how many are ready (0: the time ran out).
    public static func epollWait(_ epfd: Int32, _ events: UnsafeMutableBufferPointer<epoll_event>, timeout: Int32) throws -> Int {
        Int(try call("epoll_wait", "epfd \(epfd), \(events.count), timeout \(timeout)") {
            epoll_wait(epfd, events.baseAddress, Int32(events.count), timeout)
        })
    }

    /// poll(2) with a zero timeout on one descriptor: whether it is readable right now. For an
    /// epoll descriptor, whether any watched socket is ready. Not traced: a server that looks
    /// every few milliseconds would flood `--trace`.
    public static func isReadable(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let result = try? call("poll", "fd \(fd), POLLIN, 0", traced: false) { Glibc.poll(&entry, 1, 0) }
        return result == 1
    }

    static func operationName(_ operation: Int32) -> String {
        switch operation {
        case EPOLL_CTL_ADD: return "EPOLL_CTL_ADD"
        case EPOLL_CTL_MOD: return "EPOLL_CTL_MOD"
        case EPOLL_CTL_DEL: return "EPOLL_CTL_DEL"
        default: return "op \(operation)"
        }
    }

    static func eventNames(_ events: UInt32) -> String {
        let names: [(UInt32, String)] = [(EPOLLIN.rawValue, "EPOLLIN"), (EPOLLOUT.rawValue, "EPOLLOUT"),
                                         (EPOLLRDHUP.rawValue, "EPOLLRDHUP"), (EPOLLONESHOT.rawValue, "EPOLLONESHOT")]
        let set = names.filter { events & $0.0 != 0 }.map(\.1)
        return set.isEmpty ? "0" : set.joined(separator: "|")
    }
}
