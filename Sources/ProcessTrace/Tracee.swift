import SocketCore

/// One traced thread: which process it belongs to, and where it is in its current call.
struct Tracee {
    /// Where the thread is between stops.
    enum Phase {
        /// Running its own code (or in a call the tracer does not stop on).
        case running
        /// The seccomp stop was its call's entry; the kernel (4.8 and later) reports a
        /// syscall-entry stop next, then the exit stop.
        case seccompEntered
        /// Inside a call whose entry the tracer saw: the next syscall stop is its exit.
        case inCall
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
