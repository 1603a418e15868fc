@preconcurrency import Glibc

extension Syscall {
    /// getrlimit(2) RLIMIT_NOFILE: how many descriptors this process may open (soft) and up to
    /// where it may raise that itself (hard).
    public static func descriptorLimit() throws -> (soft: Int, hard: Int) {
        var limit = rlimit()
        _ = try call("getrlimit", "RLIMIT_NOFILE") { getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) }
        return (clamp(limit.rlim_cur), clamp(limit.rlim_max))
    }

    /// setrlimit(2) RLIMIT_NOFILE: sets the soft limit, keeping the hard one. A server raises it
    /// to the hard limit at start, as nginx's `worker_rlimit_nofile` does: the soft default
    /// (often 1024) is a guard for programs that use select(2), which cannot see higher numbers.
    public static func setDescriptorLimit(soft: Int) throws {
        var limit = rlimit()
        _ = try call("getrlimit", "RLIMIT_NOFILE") { getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) }
        limit.rlim_cur = rlim_t(soft)
        _ = try call("setrlimit", "RLIMIT_NOFILE, soft \(soft)") { setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) }
    }

    /// RLIM_INFINITY is the largest rlim_t: no descriptor number goes beyond Int32 anyway.
    private static func clamp(_ value: rlim_t) -> Int {
        value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }
}
