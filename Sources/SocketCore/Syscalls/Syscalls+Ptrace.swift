@preconcurrency import Glibc
import CLinux

/// ptrace(2), waitpid(2) and process_vm_readv(2): the calls a tracer is made of, wrapped like the
/// socket calls (EINTR retried, a failure thrown as `ptrace(PTRACE_SEIZE) failed: EPERM (...)`,
/// traced with `--trace`).
///
/// ptrace is per thread: the thread that seizes a process (or forks it) is its tracer, and only
/// that thread may make the other requests for it. A tracee stops at the points the tracer asked
/// for (a system call's entry and exit, a signal, a fork); the tracer learns of each stop from
/// waitpid(2), looks at the registers and memory, and resumes it.
extension Syscall {
    /// The ptrace(2) requests the tracer makes, named as in `<sys/ptrace.h>`.
    public enum PtraceRequest: Int32, Sendable {
        case peekData = 2        // PTRACE_PEEKDATA
        case cont = 7            // PTRACE_CONT
        case syscall = 24        // PTRACE_SYSCALL
        case detach = 17         // PTRACE_DETACH
        case getEventMessage = 0x4201   // PTRACE_GETEVENTMSG
        case getRegisterSet = 0x4204    // PTRACE_GETREGSET
        case seize = 0x4206      // PTRACE_SEIZE
        case interrupt = 0x4207  // PTRACE_INTERRUPT
        case listen = 0x4208     // PTRACE_LISTEN

        public var name: String {
            switch self {
            case .peekData: "PTRACE_PEEKDATA"
            case .cont: "PTRACE_CONT"
            case .syscall: "PTRACE_SYSCALL"
            case .detach: "PTRACE_DETACH"
            case .getEventMessage: "PTRACE_GETEVENTMSG"
            case .getRegisterSet: "PTRACE_GETREGSET"
            case .seize: "PTRACE_SEIZE"
            case .interrupt: "PTRACE_INTERRUPT"
            case .listen: "PTRACE_LISTEN"
            }
        }
    }

    /// ptrace(PTRACE_SEIZE): becomes the tracer of thread `tid` without stopping it. `options`
    /// are PTRACE_O_* bits: which stops (fork, clone, exec, seccomp) the tracer is told about.
    public static func ptraceSeize(_ tid: pid_t, options: Int) throws {
        _ = try call("ptrace", "PTRACE_SEIZE, \(tid), 0x\(String(options, radix: 16))") {
            sockettutor_ptrace(PtraceRequest.seize.rawValue, tid, nil, UnsafeMutableRawPointer(bitPattern: options))
        }
    }

    /// ptrace(2) restart requests (PTRACE_CONT, PTRACE_SYSCALL, PTRACE_LISTEN, PTRACE_DETACH,
    /// PTRACE_INTERRUPT): resume (or stop) `tid`, delivering `signal` (0: none). Not traced: one
    /// per stop of the program would drown `--trace`.
    public static func ptraceResume(_ request: PtraceRequest, _ tid: pid_t, signal: Int32 = 0) throws {
        _ = try call("ptrace", "\(request.name), \(tid), \(signal)", traced: false) {
            sockettutor_ptrace(request.rawValue, tid, nil, UnsafeMutableRawPointer(bitPattern: Int(signal)))
        }
    }

    /// ptrace(PTRACE_GETEVENTMSG): the number a PTRACE_EVENT stop carries (the new pid of a fork,
    /// the old tid of an execve).
    public static func ptraceEventMessage(_ tid: pid_t) throws -> UInt {
        var message: UInt = 0
        _ = try call("ptrace", "PTRACE_GETEVENTMSG, \(tid)", traced: false) {
            sockettutor_ptrace(PtraceRequest.getEventMessage.rawValue, tid, nil, &message)
        }
        return message
    }

    /// ptrace(PTRACE_GETREGSET, NT_PRSTATUS): the thread's general registers, as the kernel lays
    /// them out for this architecture (`user_regs_struct`), into `buffer`. Returns the bytes filled.
    public static func ptraceRegisters(_ tid: pid_t, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        _ = try call("ptrace", "PTRACE_GETREGSET, \(tid), NT_PRSTATUS", traced: false) {
            sockettutor_ptrace(PtraceRequest.getRegisterSet.rawValue, tid, UnsafeMutableRawPointer(bitPattern: 1), &vector)
        }
        return vector.iov_len
    }

    /// ptrace(PTRACE_PEEKDATA): one word of the thread's memory at `address`. The result is the
    /// word itself, so -1 is a valid value: errno, cleared first, tells a failure apart.
    public static func ptracePeek(_ tid: pid_t, at address: UInt) throws -> UInt {
        errno = 0
        let word = sockettutor_ptrace(PtraceRequest.peekData.rawValue, tid, UnsafeMutableRawPointer(bitPattern: address), nil)
        if word == -1 && errno != 0 { throw SocketError(call: "ptrace", errno: Errno.current) }
        return UInt(bitPattern: word)
    }

    /// process_vm_readv(2): copies `buffer.count` bytes at `address` of process `pid` into ours, in
    /// one call (PTRACE_PEEKDATA takes a call per word). Returns the bytes copied.
    public static func readProcessMemory(_ pid: pid_t, at address: UInt, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var local = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        var remote = iovec(iov_base: UnsafeMutableRawPointer(bitPattern: address), iov_len: buffer.count)
        return try call("process_vm_readv", "\(pid), 0x\(String(address, radix: 16)), \(buffer.count)", traced: false) {
            sockettutor_process_vm_readv(pid, &local, 1, &remote, 1)
        }
    }

    /// waitpid(2) with `__WALL`: the next stop or exit of any tracee, threads included (`-1`), or
    /// of `pid`. Returns the thread and its raw status (WIFSTOPPED, WSTOPSIG, status >> 16 for
    /// PTRACE_EVENT stops); nil with WNOHANG when nothing is ready. ECHILD: nothing left to wait for.
    /// `interruptible`: EINTR is thrown, not retried (a signal asks the tracer to detach).
    public static func waitForTracee(_ pid: pid_t = -1, noHang: Bool = false, interruptible: Bool = false) throws -> (pid: pid_t, status: Int32)? {
        var status: Int32 = 0
        let flags = Int32(bitPattern: 0x4000_0000) | (noHang ? WNOHANG : 0)   // __WALL
        let found = try call("waitpid", "\(pid), __WALL\(noHang ? "|WNOHANG" : "")", retry: !interruptible, traced: false) {
            Glibc.waitpid(pid, &status, flags)
        }
        return found == 0 ? nil : (found, status)
    }

    /// pidfd_open(2): a descriptor that names process `pid` (for pidfd_getfd).
    public static func pidfdOpen(_ pid: pid_t) throws -> Int32 {
        try call("pidfd_open", "\(pid)", traced: false) { sockettutor_pidfd_open(pid) }
    }

    /// pidfd_getfd(2): a copy, in our table, of descriptor `fd` of the process behind `pidfd`.
    /// Allowed to a tracer; the copy is ours to close.
    public static func pidfdGetFD(_ pidfd: Int32, _ fd: Int32) throws -> Int32 {
        try call("pidfd_getfd", "\(pidfd), \(fd)", traced: false) { sockettutor_pidfd_getfd(pidfd, fd) }
    }

    /// fork(2) of a child that waits for one byte on `sync.read` (written once the parent is
    /// its tracer), then installs `filter` (seccomp-BPF) and execvp(3)s `arguments` (CLinux's
    /// `sockettutor_fork_traced`: the child's side is C, because after a fork in a threaded
    /// process only async-signal-safe calls are allowed).
    public static func forkTraced(_ arguments: [String], filter: [sock_filter]?, sync: (read: Int32, write: Int32)) throws -> pid_t {
        var cStrings = arguments.map { strdup($0) }
        cStrings.append(nil)
        defer { for pointer in cStrings { free(pointer) } }
        return try call("fork", arguments.joined(separator: " "), retry: false) {
            cStrings.withUnsafeBufferPointer { argv in
                if let filter {
                    return filter.withUnsafeBufferPointer {
                        sockettutor_fork_traced(argv.baseAddress, $0.baseAddress, UInt16($0.count), sync.read, sync.write)
                    }
                }
                return sockettutor_fork_traced(argv.baseAddress, nil, 0, sync.read, sync.write)
            }
        }
    }
}

extension Syscall {
    /// pipe(2), then FD_CLOEXEC (and O_NONBLOCK when asked) on both ends with fcntl(2): a pipe
    /// that no program we exec inherits. Returns (read end, write end).
    public static func pipe(nonBlocking: Bool = false) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        _ = try call("pipe", "", traced: false) { Glibc.pipe(&fds) }
        for fd in fds {
            _ = Glibc.fcntl(fd, F_SETFD, FD_CLOEXEC)
            if nonBlocking { _ = Glibc.fcntl(fd, F_SETFL, Glibc.fcntl(fd, F_GETFL) | O_NONBLOCK) }
        }
        return (fds[0], fds[1])
    }
}
