@preconcurrency import Glibc
import SocketCore
import Synchronization

/// A private tracefs instance, `/sys/kernel/tracing/instances/sockettutor-<pid>`: its own ring
/// buffer, its own enabled events, its own clock. The global trace buffer, and every other
/// instance, stay exactly as they were.
///
/// Made by mkdir(2), undone by rmdir(2) (which turns its events off and frees the buffer).
/// `remove()` must run on every exit path the program can catch (handshake-watch waits for every
/// signal that ends a process by default, `Signals.endingByDefault`); a run killed by SIGKILL
/// leaves its instance behind, and the next run's `removeStale` takes it away. Sendable, so the
/// signal thread can remove it when the capture thread is stuck (in a write to a stalled pipe).
public final class TraceInstance: Sendable {
    public static let root = "/sys/kernel/tracing"
    public static let prefix = "sockettutor-"
    /// The tracepoints handshake-watch reads, as `system/event`. `tcp_probe` fires for every
    /// segment an established socket receives; user space keeps only its changes (`ProbeThinner`).
    public static let tracepoints = ["sock/inet_sock_set_state", "tcp/tcp_send_reset",
                                     "tcp/tcp_receive_reset", "tcp/tcp_retransmit_synack",
                                     "tcp/tcp_retransmit_skb", "tcp/tcp_probe"]

    /// The tracepoints to enable. `tcp_probe` only with a port to filter it on in the kernel:
    /// unfiltered, one event per ACK of every connection on the machine (someone's bulk
    /// transfer) would fill the ring buffer, which then overwrites the state changes not read yet.
    public static func enabled(ports: [Int]) -> [String] {
        ports.isEmpty ? tracepoints.filter { $0 != "tcp/tcp_probe" } : tracepoints
    }

    public let path: String
    /// `trace_pipe`, opened non-blocking: reading takes events out of the buffer.
    public let pipe: Int32
    private let removed = Atomic<Bool>(false)

    /// Creates and configures the instance: the `tai` clock, the kernel-side filters, the events.
    /// `ports`: when the capture filter is one port, the kernel drops other events before they
    /// reach the buffer (tracepoints with `sport`/`dport` fields), and `tcp_probe` is on; the rest
    /// is filtered by the caller.
    public init(pid: pid_t = getpid(), ports: [Int] = []) throws {
        try Self.mountIfNeeded()
        path = "\(Self.root)/instances/\(Self.prefix)\(pid)"
        try Syscall.mkdir(path)
        do {
            try Syscall.writeText(TraceClock.traceClockName, to: "\(path)/trace_clock")
            for tracepoint in Self.enabled(ports: ports) {
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

    /// Closes `trace_pipe` and removes the instance (rmdir(2) refuses, EBUSY, while a file of
    /// it is open). Safe to call twice, from any thread: the first call does it.
    public func remove() {
        guard !removed.exchange(true, ordering: .acquiringAndReleasing) else { return }
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
    public static func mountIfNeeded() throws {
        if Syscall.exists("\(root)/instances") { return }
        try Syscall.mountTracefs(at: root)
    }

    /// Removes `sockettutor-<pid>` instances whose process is gone (a run killed by SIGKILL).
    /// Returns the names removed.
    @discardableResult
    public static func removeStale(in directory: String = "\(root)/instances") -> [String] {
        guard let names = Syscall.directoryNames(directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0, !Syscall.processExists(pid) else { continue }
            if (try? Syscall.rmdir("\(directory)/\(name)")) != nil { removed.append(name) }
        }
        return removed
    }
}
