@preconcurrency import Glibc
import CLinux

/// Waiting with nanosecond deadlines, and signals as readable descriptors: what a packet loop with
/// timers needs. poll(2)'s timeout is in whole milliseconds, too coarse for a 1 ms link delay;
/// ppoll(2) takes a `timespec`. signalfd(2) turns SIGINT and SIGTERM into a descriptor the same
/// loop waits on, so a signal is read like a packet, between two iterations, never in the middle.
extension Syscall {
    /// ppoll(2) over `count` entries at `fds`, for at most `nanoseconds` (nil: no limit).
    /// Returns how many entries have `revents` set (0: the time ran out). EINTR returns 0.
    @inline(__always)
    public static func ppoll(_ fds: UnsafeMutablePointer<pollfd>, count: Int, nanoseconds: Int64?) throws -> Int {
        var limit = timespec()
        if let nanoseconds {
            let wait = max(0, nanoseconds)
            limit.tv_sec = Int(wait / 1_000_000_000)
            limit.tv_nsec = Int(wait % 1_000_000_000)
        }
        let span = Trace.begin()
        let ready = nanoseconds == nil ? sockettutor_ppoll(fds, nfds_t(count), nil)
                                       : sockettutor_ppoll(fds, nfds_t(count), &limit)
        if ready >= 0 {
            span?.end("ppoll(\(count) fds, \(nanoseconds.map { "\($0) ns" } ?? "no timeout")) -> \(ready) ready")
            return Int(ready)
        }
        let error = Errno.current
        if error == .interrupted { return 0 }
        throw SocketError(call: "ppoll", errno: error)
    }

    /// signalfd(2) for SIGINT, SIGTERM and SIGHUP (non-blocking): a descriptor that becomes
    /// readable when one of them is pending. The signals must be blocked first
    /// (`Signals.blockTermination`), or their default action ends the process before.
    public static func terminationSignalDescriptor() throws -> Int32 {
        try call("signalfd", "-1, {SIGINT, SIGTERM, SIGHUP}, SFD_NONBLOCK", result: { "fd \($0)" }) {
            sockettutor_termination_signalfd()
        }
    }

    /// read(2) of one `signalfd_siginfo` (128 bytes; the signal number is its first field) from
    /// a signalfd: the signal, or nil if none is pending.
    public static func readSignal(_ fd: Int32) throws -> Int32? {
        var info = [UInt32](repeating: 0, count: 32)
        let got = try info.withUnsafeMutableBytes { try readIfReady(fd, into: $0.baseAddress!, count: $0.count) }
        guard let got, got == 128 else { return nil }
        return Int32(bitPattern: info[0])
    }
}
