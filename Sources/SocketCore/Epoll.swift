import CLinux

/// One epoll(7) watch list: the descriptor of `epoll_create1`, and its three operations by name.
/// The calls themselves are in `Syscalls+Epoll.swift`.
public struct Epoll: Sendable {
    public let descriptor: Int32

    public init() throws {
        descriptor = try Syscall.epollCreate()
    }

    /// Adds `fd`, reporting `events` (EPOLLIN, EPOLLONESHOT ...) with `data`.
    public func add(_ fd: Int32, events: UInt32, data: UInt64) throws {
        try Syscall.epollCtl(descriptor, EPOLL_CTL_ADD, fd, events: events, data: data)
    }

    /// Changes the events of a watched `fd`; with EPOLLONESHOT, this re-arms a watch that fired.
    public func modify(_ fd: Int32, events: UInt32, data: UInt64) throws {
        try Syscall.epollCtl(descriptor, EPOLL_CTL_MOD, fd, events: events, data: data)
    }

    /// Waits up to `timeout` ms for ready descriptors; fills `events` and returns how many.
    public func wait(into events: UnsafeMutableBufferPointer<epoll_event>, timeout: Int32) throws -> Int {
        try Syscall.epollWait(descriptor, events, timeout: timeout)
    }
}
