@preconcurrency import Glibc

/// The file-system calls that drive the kernel's tracer. tracefs (`/sys/kernel/tracing`) is
/// configured by writing words into files: mkdir(2) in `instances/` makes a private trace
/// buffer, writing `1` to `events/sock/inet_sock_set_state/enable` turns a tracepoint on,
/// reading `trace_pipe` takes the events out. Wrapped like the socket calls.
extension Syscall {
    /// mount(2) of tracefs at `path`, as `mount -t tracefs nodev /sys/kernel/tracing` does.
    public static func mountTracefs(at path: String) throws {
        _ = try call("mount", "\"nodev\", \"\(path)\", \"tracefs\"") {
            Glibc.mount("nodev", path, "tracefs", 0, nil)
        }
    }

    /// mkdir(2). In tracefs `instances/`, this creates a whole new trace buffer with its own events.
    public static func mkdir(_ path: String, mode: mode_t = 0o755) throws {
        _ = try call("mkdir", "\"\(path)\", 0\(String(mode, radix: 8))") { Glibc.mkdir(path, mode) }
    }

    /// rmdir(2). In tracefs `instances/`, this removes the buffer and turns its events off.
    public static func rmdir(_ path: String) throws {
        _ = try call("rmdir", "\"\(path)\"") { Glibc.rmdir(path) }
    }

    /// open(2) with explicit flags (tracefs's `trace_pipe` opens `O_RDONLY | O_NONBLOCK`).
    public static func open(_ path: String, flags: Int32) throws -> Int32 {
        try call("open", "\"\(path)\", 0x\(String(flags, radix: 16))", result: { "fd \($0)" }) {
            Glibc.open(path, flags | O_CLOEXEC)
        }
    }

    /// Writes `text` into a (tracefs control) file with open(2), write(2), close(2). tracefs takes
    /// each write as one command, so the text goes in one write(2); a refused command is the
    /// write's errno (EINVAL for a bad filter).
    public static func writeText(_ text: String, to path: String) throws {
        let fd = try open(path, flags: O_WRONLY | O_TRUNC)
        defer { try? close(fd) }
        var bytes = Array(text.utf8)
        _ = try bytes.withUnsafeMutableBytes { buffer in
            try call("write", "\"\(path)\", \"\(text)\"") { Glibc.write(fd, buffer.baseAddress, buffer.count) }
        }
    }

    /// kill(2) with signal 0: sends nothing, only asks whether process `pid` exists.
    /// ESRCH: no such process. EPERM still means it exists (someone else's).
    public static func processExists(_ pid: pid_t) -> Bool {
        Glibc.kill(pid, 0) == 0 || errno == EPERM
    }
}
