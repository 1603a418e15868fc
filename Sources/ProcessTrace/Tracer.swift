@preconcurrency import Glibc
import SocketCore
import Timeline

/// The tracer's loop, on the one thread that may make ptrace(2) requests for its tracees.
///
/// Each turn: waitpid(__WALL) for the next stop of any traced thread, read the clocks at once
/// (so a call's entry stamp is never after it began, and its exit stamp never before it ended),
/// read the registers and copy the memory the line needs, resume the thread, and only then
/// write the line and hand the event to the feed: the program does not wait for our formatting
/// (the decoder has a reading half for the stop and a formatting half for after).
///
/// - COMMAND: a seccomp filter makes only the listed calls stop (PTRACE_EVENT_SECCOMP, the
///   call's entry); the tracer asks for the exit stop with PTRACE_SYSCALL, then lets the thread
///   run free with PTRACE_CONT.
/// - `--pid`: no filter can be added to a running process, so every call stops (PTRACE_SYSCALL
///   throughout), and the tracer ignores those it does not decode.
final class Tracer {
    enum Mode { case command, attach }

    let mode: Mode
    let feed: TraceFeed
    let sockets: TracedSockets
    let architecture = Architecture.current
    let decoder = CallDecoder(architecture: .current)
    private var tracees: [Int32: Tracee] = [:]
    private var tables: [Int32: DescriptorTable] = [:]
    private var commands: [Int32: String] = [:]
    private var pidfds: [Int32: Int32] = [:]
    private var output = OutputLines()
    private var registers: [UInt8]
    /// COMMAND's pid (the first process), whose exit status the watch exits with.
    var commandPid: Int32 = 0

    /// Whether calls in progress are reported (text shows a long call's start before it ends;
    /// JSON does not need it, and saves the work per call).
    var reportsCallsInProgress = true

    init(mode: Mode, feed: TraceFeed, sockets: TracedSockets) {
        self.mode = mode
        self.feed = feed
        self.sockets = sockets
        registers = [UInt8](repeating: 0, count: Architecture.current.registerBytes + 64)
    }

    deinit {
        for fd in pidfds.values { try? Syscall.close(fd) }
    }

    static let baseOptions = 0x01 | 0x02 | 0x04 | 0x08 | 0x10   // TRACESYSGOOD, TRACEFORK, TRACEVFORK, TRACECLONE, TRACEEXEC
    static let seccompOption = 0x80     // PTRACE_O_TRACESECCOMP
    static let exitKill = 0x100000      // PTRACE_O_EXITKILL

    // MARK: - Starting

    /// Forks COMMAND, seizes it, lets it install the filter and exec. Returns its pid.
    func spawn(_ arguments: [String]) throws -> Int32 {
        // COMMAND's output is what it writes to the stdout and stderr it inherits from us.
        DescriptorTable.outputTargets.withLock { targets in
            var found: [Int32: String] = [:]
            for fd: Int32 in [1, 2] { found[fd] = Syscall.readLinkText("/proc/self/fd/\(fd)") }
            targets = found
        }
        let ends = try Syscall.pipe()
        let fds = [ends.read, ends.write]
        let filter = SeccompFilter.standard(for: architecture).instructions
        let pid: Int32
        do {
            pid = try Syscall.forkTraced(arguments, filter: filter, sync: (fds[0], fds[1]))
        } catch {
            Syscall.closeQuietly(fds[0]); Syscall.closeQuietly(fds[1])
            throw error
        }
        Syscall.closeQuietly(fds[0])
        do {
            try Syscall.ptraceSeize(pid, options: Self.baseOptions | Self.seccompOption | Self.exitKill)
        } catch {
            Syscall.closeQuietly(fds[1])   // the child reads end of file and exits 127
            _ = try? Syscall.waitForTracee(pid)
            throw error
        }
        _ = try? [UInt8(1)].withUnsafeBytes { try Syscall.write(fds[1], $0, traced: false) }   // "you are seized: go on"
        Syscall.closeQuietly(fds[1])
        commandPid = pid
        tracees[pid] = Tracee(tid: pid, pid: pid)
        return pid
    }

    /// Seizes every thread of `pid` (again while new ones appear) and interrupts each, so that
    /// its first stop can start syscall tracing. No EXITKILL: detaching leaves it running.
    @discardableResult
    func attach(_ pid: Int32) throws -> Int {
        var seen = Set<Int32>()
        while true {
            let tids = Self.threads(of: pid).filter { !seen.contains($0) }
            if tids.isEmpty { break }
            for tid in tids {
                seen.insert(tid)
                do {
                    try Syscall.ptraceSeize(tid, options: Self.baseOptions)
                } catch let error as SocketError where error.errno == Errno(rawValue: ESRCH) && tid != pid {
                    continue   // a thread that ended meanwhile
                }
                tracees[tid] = Tracee(tid: tid, pid: pid)
                try? Syscall.ptraceResume(.interrupt, tid)
            }
        }
        if seen.isEmpty { throw SocketError(call: "ptrace", errno: Errno(rawValue: ESRCH)) }
        seedSockets(of: pid)
        return tracees.values.filter { $0.pid == pid }.count
    }

    /// The thread ids in `/proc/PID/task`.
    static func threads(of pid: Int32) -> [Int32] {
        (Syscall.directoryNames("/proc/\(pid)/task") ?? []).compactMap { Int32($0) }.sorted()
    }

    /// An attached process's sockets that exist already: their addresses, for the capture.
    private func seedSockets(of pid: Int32) {
        guard let names = Syscall.directoryNames("/proc/\(pid)/fd") else { return }
        let fds = names.compactMap { Int32($0) }
        var table = tables[pid] ?? DescriptorTable()
        for fd in fds where table.isSocket(fd, tid: pid) { name(fd, pid: pid, table: &table, publish: true) }
        tables[pid] = table
    }

    // MARK: - The loop

    /// Runs until no tracee is left, or `shouldDetach` says so (then detaches every thread).
    func run(shouldDetach: () -> Bool) {
        while !tracees.isEmpty {
            if shouldDetach() { return detachAll() }
            let next: (pid: Int32, status: Int32)?
            feed.waiting.store(true, ordering: .releasing)
            do {
                next = try Syscall.waitForTracee(interruptible: true)
            } catch let error as SocketError where error.errno == .interrupted {
                continue
            } catch {
                break   // ECHILD: nobody left
            }
            let stamp = (Clock.now(), Clock.monotonicNanoseconds())
            feed.waiting.store(false, ordering: .releasing)
            guard let next else { continue }
            handle(next.pid, StopStatus(next.status), stamp: stamp)
            feed.stopsHandled.add(1, ordering: .releasing)
        }
    }

    private func handle(_ tid: Int32, _ status: StopStatus, stamp: (EpochTime, UInt64)) {
        if tracees[tid] == nil {
            if case .exited = status { return }
            if case .killed = status { return }
            tracees[tid] = Tracee(tid: tid, pid: Self.processID(of: tid))   // a new child's first stop
        }
        switch status {
        case .exited(let code):
            ended(tid, status: Int32(code) << 8, text: "+++ exited with \(code) +++", stamp: stamp.0)
        case .killed(let signal):
            ended(tid, status: signal, text: "+++ killed by \(Self.signalName(signal)) +++", stamp: stamp.0)
        case .syscall:
            syscallStop(tid, stamp: stamp)
        case .event(StopStatus.seccomp, _):
            let opened = startCall(tid, stamp: stamp, phase: .seccompEntered, registers: readRegisters(tid))
            resume(tid)
            if opened { writeEntry(tid) }
        case .event(let kind, _) where kind == StopStatus.fork || kind == StopStatus.vfork || kind == StopStatus.clone:
            if let child = try? Syscall.ptraceEventMessage(tid) {
                let childTid = Int32(truncatingIfNeeded: child)
                let parent = tracees[tid]!.pid
                let pid = kind == StopStatus.clone ? Self.processID(of: childTid) : childTid
                if tracees[childTid] == nil { tracees[childTid] = Tracee(tid: childTid, pid: pid) } else { tracees[childTid]?.pid = pid }
                if pid != parent { tables[pid] = tables[parent] }   // fork: a copy of the descriptors
            }
            resume(tid)
        case .event(StopStatus.exec, _):
            execed(tid)
            resume(tid)
        case .event:
            if status.isGroupStop {
                try? Syscall.ptraceResume(.listen, tid)   // stays stopped, as the signal wants
            } else {
                resume(tid)   // a new thread's first stop, or our PTRACE_INTERRUPT
            }
        case .signal(let signal):
            resume(tid, signal: signal)   // delivered as it came
        }
    }

    /// The next move for a thread: PTRACE_SYSCALL while its call is open (or always, attached),
    /// PTRACE_CONT otherwise.
    private func resume(_ tid: Int32, signal: Int32 = 0) {
        guard let tracee = tracees[tid] else { return }
        let request: Syscall.PtraceRequest = mode == .attach || tracee.phase != .running ? .syscall : .cont
        do {
            try Syscall.ptraceResume(request, tid, signal: signal)
        } catch {
            // ESRCH: killed meanwhile (SIGKILL needs no tracer); its exit is reported by waitpid.
        }
    }

    // MARK: - Calls

    private func readRegisters(_ tid: Int32) -> SyscallRegisters? {
        guard let count = try? registers.withUnsafeMutableBytes({ try Syscall.ptraceRegisters(tid, into: $0) }) else { return nil }
        return registers.withUnsafeBytes { SyscallRegisters(UnsafeRawBufferPointer(rebasing: $0[..<count]), architecture: architecture) }
    }

    /// A syscall stop: its registers, read once (PTRACE_GETREGSET), tell an entry from an exit
    /// and carry the arguments or the result.
    private func syscallStop(_ tid: Int32, stamp: (EpochTime, UInt64)) {
        guard let phase = tracees[tid]?.phase else { return }
        let registers = readRegisters(tid)
        switch phase.afterSyscallStop(looksLikeEntry: registers?.looksLikeEntry ?? false) {
        case .enters:
            let opened = startCall(tid, stamp: stamp, phase: .inCall, registers: registers)
            if opened { feed.hold(from: stamp.0) }   // its SYN waits for its line
            resume(tid)
            if opened {
                writeEntry(tid)
                feed.holdEnded()
            }
            return
        case .exits:
            // Only what needs the thread stopped is read before it goes on (its result, the
            // memory the call wrote, the kernel's names for a new socket); the event is put
            // together while the program runs, not while it waits for us.
            if let start = tracees[tid]?.call?.start { feed.hold(from: start) }   // the event is placed by its start
            let finished = finishCall(tid, stamp: stamp, registers: registers)
            resume(tid)
            if let finished { report(finished) }
            feed.holdEnded()
            return
        case .becomes(let next): tracees[tid]?.phase = next
        case .nothing: break
        }
        resume(tid)
    }

    /// The entry, while the thread is stopped: stamps, reads the arguments and copies the memory
    /// the line quotes, and tells the capture about addresses before the call runs (so a
    /// connect()'s SYN is known to be the program's). Returns whether a call was opened; its
    /// line is written by `writeEntry` once the thread runs.
    private func startCall(_ tid: Int32, stamp: (EpochTime, UInt64), phase: Tracee.Phase, registers: SyscallRegisters?) -> Bool {
        guard var tracee = tracees[tid], let registers else { return false }
        tracee.phase = phase
        tracee.call = nil
        if let name = architecture.table.name(registers.number) {
            // Taken out and put back: mutated in place, never copied (copy-on-write).
            var table = tables.removeValue(forKey: tracee.pid) ?? DescriptorTable()
            let entry = decoder.readEntry(name, registers.arguments, memory: TraceeMemory(tid: tid), table: &table)
            tables[tracee.pid] = table
            if entry.shown || entry.outputStream != nil {
                // The label now: an execve() running meanwhile could change /proc/PID/comm.
                let label = label(tid: tid, pid: tracee.pid)
                tracee.call = .init(entry: entry, start: stamp.0, startNanoseconds: stamp.1, label: label)
                if entry.name == "connect", let destination = entry.address?.endpoint { sockets.connecting(destination) }
            }
        }
        tracees[tid] = tracee
        return tracee.call != nil
    }

    /// After the entry's resume: the call's line, from what `startCall` copied, and (text
    /// output) the call in progress for the feed. Done before the next waitpid, so the line is
    /// there before the call's exit stop is handled.
    private func writeEntry(_ tid: Int32) {
        guard tracees[tid]?.call != nil else { return }
        decoder.formatEntry(&tracees[tid]!.call!.entry)   // in place, no copy of the entry
        guard reportsCallsInProgress, let tracee = tracees[tid], let call = tracee.call, call.entry.shown else { return }
        feed.started(tid, .init(start: call.start, event: event(tracee, call.entry.text, call: call.entry.name, label: call.label,
                                                              start: call.start, duration: 0)))
    }

    /// A call read at its exit stop, waiting to become an event once its thread runs on.
    private struct Finished {
        var tracee: Tracee
        var call: Tracee.Call
        var result: Int64
        var duration: Double
        /// What the exit stop read; nil for a write to stdout or stderr (it becomes `output` lines).
        var returned: CallReturn?
        var label: String
    }

    /// The exit, while the thread is still stopped: the result, what the call wrote in the
    /// program's memory, what it taught the descriptor table (and the capture).
    private func finishCall(_ tid: Int32, stamp: (EpochTime, UInt64), registers: SyscallRegisters?) -> Finished? {
        guard var tracee = tracees[tid] else { return nil }
        let open = tracee.call
        tracee.phase = .running
        tracee.call = nil
        tracees[tid] = tracee
        guard let call = open else { return nil }
        if reportsCallsInProgress && call.entry.shown { feed.ended(tid) }
        let result = registers?.returnValue ?? 0
        let duration = Double(stamp.1 &- call.startNanoseconds) / 1e9
        if call.entry.outputStream != nil {
            return Finished(tracee: tracee, call: call, result: result, duration: duration, returned: nil, label: call.label)
        }
        var table = tables.removeValue(forKey: tracee.pid) ?? DescriptorTable()   // in place, as in startCall
        var returned = decoder.readExit(call.entry, result: result, memory: TraceeMemory(tid: tid), table: &table)
        publish(call.entry, result: result, tid: tid, pid: tracee.pid, stamp: stamp.0, table: &table)
        tables[tracee.pid] = table
        if let fd = call.entry.name == "accept" || call.entry.name == "accept4" ? (result >= 0 ? Int32(result) : nil) : call.entry.fd,
           let known = call.entry.closedSocket ?? table[fd] {
            returned.local = known.local ?? returned.local
            returned.remote = known.remote ?? returned.remote
        }
        let label = call.entry.name.hasPrefix("execve") ? self.label(tid: tid, pid: tracee.pid) : call.label
        return Finished(tracee: tracee, call: call, result: result, duration: duration, returned: returned, label: label)
    }

    /// The finished call's line and event (or output lines), made after its thread was resumed
    /// and handed to the feed.
    private func report(_ finished: Finished) {
        let call = finished.call
        guard let returned = finished.returned else {
            let stream = call.entry.outputStream ?? "stdout"
            let written = finished.result > 0 ? Array(call.entry.outputBytes.prefix(Int(finished.result))) : []
            for line in output.add(written, key: "\(finished.tracee.pid) \(stream)") {
                feed.add(.output(time: call.start, label: call.label, stream: stream, text: line))
            }
            return
        }
        let exit = decoder.formatExit(call.entry, returned)
        let resultValue: JSONValue = switch exit.result {
        case .number(let value): .integer(Int(value))
        case .error(let name): .string(name)
        }
        var event = event(finished.tracee, exit.text, call: call.entry.name, label: finished.label, start: call.start,
                          duration: finished.duration, fd: call.entry.fd, result: resultValue)
        if let local = exit.local { event["local"] = .string(local.ip); event["lport"] = .integer(local.port) }
        if let remote = exit.remote { event["remote"] = .string(remote.ip); event["rport"] = .integer(remote.port) }
        feed.add(event)
    }

    /// A `syscall` event: time (start), duration, label, pid, tid, comm, call, then the rest.
    private func event(_ tracee: Tracee, _ text: String, call: String, label: String, start: EpochTime, duration: Double,
                       fd: Int32? = nil, result: JSONValue? = nil) -> TimelineEvent {
        var fields: [(String, JSONValue)] = [
            ("duration", .fixed(duration, decimals: 6)), ("label", .string(label)), ("pid", .integer(Int(tracee.pid))),
            ("tid", .integer(Int(tracee.tid))), ("comm", .string(commands[tracee.pid] ?? "?")),
            ("call", .string(call)),
        ]
        if let fd { fields.append(("fd", .integer(Int(fd)))) }
        if let result { fields.append(("result", result)) }
        fields.append(("text", .string(text)))
        return TimelineEvent(type: "syscall", time: start, fields: fields)
    }

    /// After a call that made or named a socket: its addresses, asked of the kernel, into the
    /// table and the capture's sets.
    private func publish(_ entry: CallEntry, result: Int64, tid: Int32, pid: Int32, stamp: EpochTime, table: inout DescriptorTable) {
        let failed = result < 0 && result >= -4095
        switch entry.name {
        case "connect":
            guard let fd = entry.fd else { return }
            if !failed || result == -Int64(EINPROGRESS) { name(fd, pid: pid, table: &table, publish: true) }
            if let destination = entry.address?.endpoint { sockets.connected(destination) }
        case "accept", "accept4":
            if !failed { name(Int32(truncatingIfNeeded: result), pid: pid, table: &table, publish: true) }
        case "listen":
            if !failed, let fd = entry.fd {
                if table[fd]?.local == nil || table[fd]?.local?.port == 0 { name(fd, pid: pid, table: &table, publish: false) }
                if let port = table[fd]?.local?.port { sockets.listen(port: port) }
            }
        case "close":
            guard !failed, let gone = entry.closedSocket else { return }
            if gone.listening, let port = gone.local?.port { sockets.unlisten(port: port, at: stamp) }
            if let local = gone.local, gone.remote != nil { sockets.remove(end: local.description, at: stamp) }
        default:
            break
        }
    }

    /// Asks the kernel for a socket's two ends: a copy of the program's descriptor through
    /// pidfd_getfd(2), then getsockname(2) and getpeername(2) on it, then the copy is closed.
    private func name(_ fd: Int32, pid: Int32, table: inout DescriptorTable, publish: Bool) {
        guard let pidfd = pidfd(pid), let copy = try? Syscall.pidfdGetFD(pidfd, fd) else { return }
        defer { try? Syscall.close(copy) }
        var entry = table[fd] ?? .init(isSocket: true)
        entry.named = true
        if let local = (try? Syscall.getsockname(copy)) ?? nil {
            entry.local = .init(ip: Self.unmapped(local.ip), port: local.port)
        }
        if let remote = (try? Syscall.getpeername(copy)) ?? nil {
            entry.remote = .init(ip: Self.unmapped(remote.ip), port: remote.port)
        }
        table[fd] = entry
        guard publish, let local = entry.local else { return }
        if entry.remote != nil { sockets.add(end: local.description) } else if local.port != 0 { sockets.listen(port: local.port) }
    }

    /// `::ffff:127.0.0.1` (an IPv4 peer of a dual-stack socket) as packets show it: `127.0.0.1`.
    static func unmapped(_ ip: String) -> String { ip.hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip }

    private func pidfd(_ pid: Int32) -> Int32? {
        if let known = pidfds[pid] { return known }
        guard let fd = try? Syscall.pidfdOpen(pid) else { return nil }
        pidfds[pid] = fd
        return fd
    }

    // MARK: - Processes

    private func execed(_ tid: Int32) {
        guard let tracee = tracees[tid] else { return }
        // A thread other than the leader that execs takes the leader's tid: the old one is gone.
        if let former = try? Syscall.ptraceEventMessage(tid), Int32(truncatingIfNeeded: former) != tid {
            tracees[Int32(truncatingIfNeeded: former)] = nil
        }
        for (other, entry) in tracees where entry.pid == tracee.pid && other != tid { tracees[other] = nil }
        tables[tracee.pid]?.reset()
        commands[tracee.pid] = nil
        labels[tid] = nil
        if let fd = pidfds.removeValue(forKey: tracee.pid) { try? Syscall.close(fd) }
    }

    private func ended(_ tid: Int32, status: Int32, text: String, stamp: EpochTime) {
        guard let tracee = tracees.removeValue(forKey: tid) else { return }
        feed.ended(tid)
        labels[tid] = nil
        guard tid == tracee.pid else { return }   // a thread; its process goes on
        flushOutput(of: tracee.pid, stamp: stamp)
        feed.add(TimelineEvent(type: "exit", time: stamp, fields: [
            ("label", .string(label(tid: tid, pid: tracee.pid))), ("pid", .integer(Int(tracee.pid))),
            ("comm", .string(commands[tracee.pid] ?? "?")), ("status", .integer(Int(status))), ("text", .string(text)),
        ]))
        tables[tracee.pid] = nil
        commands[tracee.pid] = nil
        if let fd = pidfds.removeValue(forKey: tracee.pid) { try? Syscall.close(fd) }
        if tid == commandPid { feed.commandEnded(status) }
    }

    private func flushOutput(of pid: Int32, stamp: EpochTime) {
        for (key, line) in output.flush(prefix: "\(pid) ") {
            let stream = key.hasSuffix("stderr") ? "stderr" : "stdout"
            feed.add(.output(time: stamp, label: label(tid: pid, pid: pid), stream: stream, text: line))
        }
    }

    /// `python3 4242`, or `python3 4242/4250` for a thread that is not the process's first.
    /// Kept per thread until its process execs (a new name).
    private func label(tid: Int32, pid: Int32) -> String {
        if let known = labels[tid], commands[pid] != nil { return known }
        let command: String
        if let known = commands[pid] {
            command = known
        } else {
            let read = (try? Syscall.readFile("/proc/\(pid)/comm", limit: 64)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            command = String(read.prefix { $0 != "\n" }.map { $0.isASCII && !$0.isWhitespace || $0 == " " ? $0 : "." })
            commands[pid] = command
        }
        let label = tid == pid ? "\(command) \(pid)" : "\(command) \(pid)/\(tid)"
        labels[tid] = label
        return label
    }
    private var labels: [Int32: String] = [:]

    /// The process (thread group) a thread belongs to: `Tgid:` in /proc/TID/status.
    static func processID(of tid: Int32) -> Int32 {
        guard let bytes = try? Syscall.readFile("/proc/\(tid)/status", limit: 1 << 16) else { return tid }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Tgid:") }),
              let value = Int32(line.dropFirst(5).filter { $0 != " " && $0 != "\t" }) else { return tid }
        return value
    }

    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL",
                                      SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL",
                                      SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE",
                                      SIGALRM: "SIGALRM", SIGTERM: "SIGTERM"]
        return names[signal] ?? "signal \(signal)"
    }

    // MARK: - Detaching

    /// Leaves every thread running exactly as before: interrupts each, and at its next stop
    /// detaches it, handing back the signal it was about to receive, if any. A thread already
    /// stopped by a group-stop stays stopped, as it would have without us.
    private func detachAll() {
        for tid in tracees.keys { try? Syscall.ptraceResume(.interrupt, tid) }
        while !tracees.isEmpty {
            guard let found = try? Syscall.waitForTracee() else { break }
            let status = StopStatus(found.status)
            guard tracees[found.pid] != nil else { continue }
            switch status {
            case .exited, .killed:
                tracees[found.pid] = nil
                continue
            case .signal(let signal):
                try? Syscall.ptraceResume(.detach, found.pid, signal: signal)
            default:
                try? Syscall.ptraceResume(.detach, found.pid)
            }
            if let call = tracees[found.pid]?.call, call.entry.shown { feed.ended(found.pid) }
            tracees[found.pid] = nil
        }
    }
}
