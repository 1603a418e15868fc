import SocketCore

/// One traced thread: which process it belongs to, and where it is in its current call.
struct Tracee {
    /// Where the thread is between stops.
    enum Phase: Equatable {
        /// Running its own code (or in a call the tracer does not stop on).
        case running
        /// The seccomp stop was its call's entry; resumed with PTRACE_SYSCALL, the next stop
        /// is the call's exit (Linux runs the seccomp filter after the point where a
        /// syscall-entry stop would be reported). A kernel that reports an entry stop there
        /// anyway is recognised by its registers and passed over.
        case seccompEntered
        /// Inside a call whose entry the tracer saw: the next syscall stop is its exit.
        case inCall

        /// The registers tell an entry stop from an exit stop (x86_64: rax is -ENOSYS before the
        /// call; aarch64: x7 is 0); the phase tells which call an exit ends.
        func afterSyscallStop(looksLikeEntry: Bool) -> Meaning {
            switch self {
            case .seccompEntered where looksLikeEntry: .becomes(.inCall)
            case .seccompEntered, .inCall: .exits
            case .running: looksLikeEntry ? .enters : .nothing
            }
        }
    }

    /// What a syscall stop means for a thread in this phase (SIGTRAP|0x80; seccomp stops are
    /// always an entry). Each thread has its own phase: stops of different threads interleave
    /// freely in waitpid's order, and each pairs only with its own.
    enum Meaning: Equatable {
        /// A call begins: stamp its start, read its arguments.
        case enters
        /// The call ends: stamp its end, read its result.
        case exits
        /// Only the phase moves on (the entry stop that follows a seccomp stop).
        case becomes(Phase)
        /// Nothing to do (a syscall stop the tracer cannot place).
        case nothing
    }

    let tid: Int32
    var pid: Int32
    var phase: Phase = .running
    /// The call in progress, when it is one the timeline shows (or writes output).
    var call: Call?

    /// A call stamped at its entry stop.
    struct Call {
        var entry: CallEntry
        var start: EpochTime
        var startNanoseconds: UInt64
        var label: String
    }

    init(tid: Int32, pid: Int32) {
        self.tid = tid
        self.pid = pid
    }
}
