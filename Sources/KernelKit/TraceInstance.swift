@preconcurrency import Glibc
import SocketCore

/// A private tracefs instance, `/sys/kernel/tracing/instances/sockettutor-<pid>`: its own ring
/// buffer, its own enabled events, its own clock. The global trace buffer, and every other
/// instance, stay exactly as they were.
///
/// Made by mkdir(2), undone by rmdir(2) (which turns its events off and frees the buffer).
/// `remove()` must run on every exit path the program can catch; a run killed by SIGKILL leaves
/// its instance behind, and the next run's `removeStale` takes it away.
public final class TraceInstance {
    public static let root = "/sys/kernel/tracing"
    public static let prefix = "sockettutor-"
    /// The tracepoints handshake-watch reads, as `system/event`.
    public static let tracepoints = ["sock/inet_sock_set_state", "tcp/tcp_send_reset",
                                     "tcp/tcp_receive_reset", "tcp/tcp_retransmit_synack", "tcp/tcp_retransmit_skb"]

    public let path: String
    /// `trace_pipe`, opened non-blocking: reading takes events out of the buffer.
    public let pipe: Int32
    private var removed = false

    /// Creates and configures the instance: the `tai` clock, the kernel-side filters, the events.
    /// `ports`: when the capture filter is one port, the kernel drops other events before they
    /// reach the buffer (tracepoints with `sport`/`dport` fields); the rest is filtered by the caller.
    public init(pid: pid_t = getpid(), ports: [Int] = []) throws {
        try Self.mountIfNeeded()
        path = "\(Self.root)/instances/\(Self.prefix)\(pid)"
        try Syscall.mkdir(path)
        do {
            try Syscall.writeText(TraceClock.traceClockName, to: "\(path)/trace_clock")
            for tracepoint in Self.tracepoints {
                if let filter = Self.kernelFilter(tracepoint, ports: ports) {
                    try Syscall.writeText(filter, to: "\(path)/events/\(tracepoint)/filter")
                }
                try Syscall.writeText("1", to: "\(path)/events/\(tracepoint)/enable")
            }
            pipe = try Syscall.open("\(path)/trace_pipe", flags: O_RDONLY | O_NONBLOCK)
        } catch {
            try? Syscall.rmdir(path)
            throw error
        }
    }

    deinit { remove() }

    /// Closes `trace_pipe` and removes the instance. Safe to call twice.
    public func remove() {
        guard !removed else { return }
        removed = true
        try? Syscall.close(pipe)
        try? Syscall.rmdir(path)
    }

    /// The tracefs filter for one tracepoint: TCP only, and the ports when known.
    /// tcp_send_reset has no port fields (its addresses are sockaddr blobs): user space filters it.
    static func kernelFilter(_ tracepoint: String, ports: [Int]) -> String? {
        if tracepoint == "tcp/tcp_send_reset" { return nil }
        var terms: [String] = []
        if tracepoint == "sock/inet_sock_set_state" { terms.append("protocol == 6") }
        if !ports.isEmpty {
            terms.append("(" + ports.map { "sport == \($0) || dport == \($0)" }.joined(separator: " || ") + ")")
        }
        return terms.isEmpty ? nil : terms.joined(separator: " && ")
    }

    /// Mounts tracefs at /sys/kernel/tracing when nothing is mounted there (`instances/` missing).
    static func mountIfNeeded() throws {
        if access("\(root)/instances", F_OK) == 0 { return }
        try Syscall.mountTracefs(at: root)
    }

    /// Removes `sockettutor-<pid>` instances whose process is gone (a run killed by SIGKILL).
    /// Returns the names removed.
    @discardableResult
    public static func removeStale(in directory: String = "\(root)/instances") -> [String] {
        guard let dir = opendir(directory) else { return [] }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            names.append(name)
        }
        closedir(dir)
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0, !Syscall.processExists(pid) else { continue }
            if (try? Syscall.rmdir("\(directory)/\(name)")) != nil { removed.append(name) }
        }
        return removed
    }
}
