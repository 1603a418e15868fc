@preconcurrency import Glibc

/// A waitpid(2) status, read as ptrace(2)'s STOPS section describes it.
enum StopStatus: Equatable {
    /// The thread ended: exit status, or the signal that killed it.
    case exited(Int32)
    case killed(Int32)
    /// syscall-enter or syscall-exit stop (SIGTRAP | 0x80, thanks to PTRACE_O_TRACESYSGOOD).
    case syscall
    /// A PTRACE_EVENT_* stop: fork, vfork, clone, exec, seccomp, or PTRACE_EVENT_STOP.
    case event(Int32, signal: Int32)
    /// A signal about to be delivered: the tracer passes it on (or not) when it resumes.
    case signal(Int32)

    static let fork: Int32 = 1, vfork: Int32 = 2, clone: Int32 = 3, exec: Int32 = 4
    static let seccomp: Int32 = 7, stop: Int32 = 128

    init(_ status: Int32) {
        let low = status & 0x7F
        if low == 0 {
            self = .exited((status >> 8) & 0xFF)
        } else if low != 0x7F {
            self = .killed(low)
        } else {
            let signal = (status >> 8) & 0xFF
            let event = (status >> 16) & 0xFFFF
            if signal == (SIGTRAP | 0x80) {
                self = .syscall
            } else if event != 0 {
                self = .event(event, signal: signal)
            } else {
                self = .signal(signal)
            }
        }
    }

    /// A group-stop (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU stopping the whole process), which
    /// PTRACE_SEIZE reports as PTRACE_EVENT_STOP with that signal.
    var isGroupStop: Bool {
        guard case .event(Self.stop, let signal) = self else { return false }
        return [SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU].contains(signal)
    }
}
