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
