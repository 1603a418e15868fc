@preconcurrency import Glibc

extension Syscall {
    /// send(2) with `MSG_MORE`: "more is coming, hold this in the kernel". An HTTP server sends
    /// its response headers this way right before sendfile(2), so headers and the first bytes of
    /// the file leave in the same TCP segment instead of a tiny segment of their own.
    public static func sendMore(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws -> Int {
        try call("send", "fd \(fd), \(bytes.count) bytes, MSG_MORE", result: { "\($0)" }) {
            Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_MORE))
        }
    }
}

extension Syscall {
    /// recv(2) with `MSG_DONTWAIT`: takes what has arrived, or returns nil at once (EAGAIN)
    /// instead of blocking, even on a blocking socket. Lets a caller learn that the next
    /// recv() would wait before it waits.
    public static func recvIfReady(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try unlessWouldBlock {
            try call("recv", "fd \(fd), \(buffer.count), MSG_DONTWAIT",
                     result: { $0 == 0 ? "0 (peer closed)" : "\($0)" }) {
                Glibc.recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            }
        }
    }

    /// The one place EAGAIN ("would block") is caught: a call on a non-blocking socket that
    /// finds nothing to do returns nil instead of throwing, as NIOPosix's `.wouldBlock` result.
    /// A loop then reads `guard let n = try socket.recvIfReady(...) else { wait }`, and every
    /// other error still throws.
    public static func unlessWouldBlock<T>(_ body: () throws -> T) throws -> T? {
        do {
            return try body()
        } catch let error as SocketError where error.isWouldBlock {
            return nil
        }
    }
}
