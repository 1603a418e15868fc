@preconcurrency import Glibc
import Testing
@testable import ProcessTrace
import SocketCore

/// The tracer's parts that need no tracee: the seccomp program (run through a BPF interpreter),
/// the system-call tables, register layouts of both instruction sets, sockaddr decoding, the
/// pairing of entry and exit stops per thread, and the cutting of output into lines.
@Suite("ProcessTrace units")
struct TracerUnitTests {
    // MARK: - the capture's sets

    /// The capture can read a packet long after it was sent. A connection's packets stamped
    /// before its close(), and its FIN exchange after it (up to TIME_WAIT's 60 s), stay the
    /// program's; a closed listener's port only for what was stamped before its close().
    @Test("a closed socket's packets are judged by their stamps, not by when they are read")
    func closedSocketsLingerByStamp() {
        let sockets = TracedSockets()
        let second: Int64 = 1_000_000
        func at(_ seconds: Int64) -> EpochTime { EpochTime(microseconds: 1_700_000_000 * second + seconds * second) }
        func mine(_ source: String, _ destination: String, at time: EpochTime) -> Bool {
            let port = { (end: String) in Int(end.split(separator: ":").last!)! }
            return sockets.matches(source: source, sourcePort: port(source), destination: destination,
                                   destinationPort: port(destination), time: time)
        }
        sockets.listen(port: 5000)
        sockets.add(end: "127.0.0.1:40000")
        #expect(mine("127.0.0.1:40000", "127.0.0.1:5000", at: at(0)))
        sockets.remove(end: "127.0.0.1:40000", at: at(10))
        sockets.unlisten(port: 5000, at: at(10))
        #expect(mine("127.0.0.1:40000", "127.0.0.1:5000", at: at(9)), "sent before the close, read after it")
        #expect(mine("127.0.0.1:5000", "127.0.0.1:40000", at: at(11)), "the peer's FIN after the close")
        #expect(mine("127.0.0.1:40000", "127.0.0.1:5000", at: at(70)), "TIME_WAIT: 60 s after the close")
        #expect(!mine("127.0.0.1:40000", "127.0.0.1:5000", at: at(71)), "past TIME_WAIT: someone else's")
        #expect(mine("127.0.0.1:40001", "127.0.0.1:5000", at: at(10)), "the listener's, before its close")
        #expect(!mine("127.0.0.1:40001", "127.0.0.1:5000", at: at(11)), "a SYN to a closed listener: not the program's")
        #expect(!mine("127.0.0.1:40002", "127.0.0.1:6000", at: at(0)), "never the program's")
        // Bounded: thousands of closes, each forgotten once its time is past.
        for index in 0..<10_000 { sockets.add(end: "10.0.0.1:\(index)"); sockets.remove(end: "10.0.0.1:\(index)", at: at(Int64(index))) }
        #expect(sockets.closedCount < 10_000, "\(sockets.closedCount) closed ends kept")
        #expect(mine("10.0.0.1:9999", "10.0.0.2:80", at: at(10_000)))
    }

    // MARK: - seccomp

    @Test("the x86_64 filter traces exactly the listed calls, and nothing of another instruction set")
    func seccompX86() {
        let filter = SeccompFilter.standard(for: .x86_64)
        let arch = Architecture.x86_64.auditArch
        for name in SyscallTable.tracedNames {
            let number = try! #require(SyscallTable.x86_64.number(name), "\(name) on x86_64")
            #expect(filter.traces(number: number, arch: arch), "\(name) (\(number)) is traced")
        }
        // openat, mmap, brk, futex, clock_gettime, exit_group: run without a stop.
        for number in [257, 9, 12, 202, 228, 231, 62 /* kill */] {
            #expect(!filter.traces(number: number, arch: arch), "\(number) is not traced")
        }
        // i386's connect is number 362, its socketcall 102; and the same number 42 in i386 is pipe: never traced.
        #expect(!filter.traces(number: 42, arch: 0x4000_0003))
        #expect(filter.instructions.count == SyscallTable.x86_64.tracedNumbers.count + 6)
    }

    @Test("the aarch64 filter traces aarch64's numbers (connect is 203), not x86_64's")
    func seccompAarch64() {
        let filter = SeccompFilter.standard(for: .aarch64)
        let arch = Architecture.aarch64.auditArch
        #expect(filter.traces(number: 203, arch: arch))      // connect
        #expect(filter.traces(number: 207, arch: arch))      // recvfrom
        #expect(filter.traces(number: 221, arch: arch))      // execve
        #expect(!filter.traces(number: 56, arch: arch))      // openat
        #expect(!filter.traces(number: 222, arch: arch))     // mmap
        #expect(!filter.traces(number: 42, arch: arch))      // x86_64's connect is nothing here
        #expect(!filter.traces(number: 203, arch: Architecture.x86_64.auditArch))
    }

    // MARK: - tables

    @Test("system-call numbers of both tables, against the kernel's")
    func tables() {
        let x86: [String: Int] = ["read": 0, "write": 1, "close": 3, "socket": 41, "connect": 42, "accept": 43, "sendto": 44,
                                  "recvfrom": 45, "bind": 49, "listen": 50, "setsockopt": 54, "clone": 56, "execve": 59,
                                  "accept4": 288, "epoll_wait": 232, "clone3": 435]
        for (name, number) in x86 {
            #expect(SyscallTable.x86_64.number(name) == number, "x86_64 \(name)")
            #expect(SyscallTable.x86_64.name(number) == name)
        }
        let arm: [String: Int] = ["read": 63, "write": 64, "close": 57, "socket": 198, "connect": 203, "accept": 202,
                                  "sendto": 206, "recvfrom": 207, "bind": 200, "listen": 201, "setsockopt": 208,
                                  "clone": 220, "execve": 221, "accept4": 242, "epoll_pwait": 22, "dup3": 24, "fcntl": 25]
        for (name, number) in arm {
            #expect(SyscallTable.aarch64.number(name) == number, "aarch64 \(name)")
            #expect(SyscallTable.aarch64.name(number) == name)
        }
        let missing = SyscallTable.tracedNames.filter { SyscallTable.aarch64.number($0) == nil }
        #expect(Set(missing) == ["poll", "select", "epoll_create", "epoll_wait", "dup2", "fork", "vfork"],
                "aarch64 has only the modern forms: \(missing)")
        #expect(SyscallTable.tracedNames.allSatisfy { SyscallTable.x86_64.number($0) != nil })
    }

    // MARK: - registers

    @Test("x86_64 registers: number in orig_rax, arguments rdi rsi rdx r10 r8 r9, rax -ENOSYS at entry")
    func registersX86() throws {
        var words = [UInt64](repeating: 0, count: 27)
        words[15] = 42                              // orig_rax: connect
        words[14] = 3                               // rdi: fd
        words[13] = 0x7ffd_0000_1000                // rsi: sockaddr *
        words[12] = 16                              // rdx: addrlen
        words[10] = UInt64(bitPattern: -38)         // rax: -ENOSYS
        let entry = try #require(words.withUnsafeBytes { SyscallRegisters($0, architecture: .x86_64) })
        #expect(entry.number == 42)
        #expect(Array(entry.arguments.prefix(3)) == [3, 0x7ffd_0000_1000, 16])
        #expect(entry.looksLikeEntry)
        words[10] = UInt64(bitPattern: -111)        // ECONNREFUSED at the exit
        let exit = try #require(words.withUnsafeBytes { SyscallRegisters($0, architecture: .x86_64) })
        #expect(!exit.looksLikeEntry)
        #expect(exit.returnValue == -111)
        #expect(words.withUnsafeBytes { SyscallRegisters(UnsafeRawBufferPointer(rebasing: $0[..<100]), architecture: .x86_64) } == nil,
                "too short for user_regs_struct")
    }

    @Test("aarch64 registers: number in x8, arguments x0-x5, result in x0, x7 tells entry from exit")
    func registersAarch64() throws {
        for architecture in Architecture.allCases {
            for entry in [true, false] {
                let bytes = SyscallRegisters.bytes(number: 203, arguments: [4, 0xdead_beef, 28, 0, 0, 0], returnValue: -115,
                                                   entry: entry, architecture: architecture)
                let decoded = try #require(bytes.withUnsafeBytes { SyscallRegisters($0, architecture: architecture) })
                #expect(decoded.number == 203)
                #expect(decoded.looksLikeEntry == entry, "\(architecture) entry \(entry)")
                if entry { #expect(Array(decoded.arguments.prefix(3)) == [4, 0xdead_beef, 28]) } else { #expect(decoded.returnValue == -115) }
            }
        }
        var words = [UInt64](repeating: 0, count: 34)
        words[8] = 207; words[0] = 5; words[2] = 10; words[7] = 0
        let recv = try #require(words.withUnsafeBytes { SyscallRegisters($0, architecture: .aarch64) })
        #expect(recv.number == 207 && recv.arguments[0] == 5 && recv.arguments[2] == 10 && recv.looksLikeEntry)
    }

    // MARK: - sockaddr

    @Test("sockaddr_in, sockaddr_in6, sockaddr_un (path and abstract), and a truncated addrlen")
    func sockaddrs() throws {
        let v4: [UInt8] = [2, 0, 0x13, 0x88, 127, 0, 0, 1] + [UInt8](repeating: 0, count: 8)
        let a = try #require(SockaddrText(v4))
        #expect(a.text == "127.0.0.1:5000" && a.ip == "127.0.0.1" && a.port == 5000 && a.family == .inet)

        var v6: [UInt8] = [10, 0, 0x13, 0x89, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 16) + [0, 0, 0, 0]
        v6[23] = 1
        let b = try #require(SockaddrText(v6))
        #expect(b.text == "[::1]:5001" && b.endpoint == "[::1]:5001")

        let path = Array("/run/app.sock".utf8)
        let c = try #require(SockaddrText([1, 0] + path + [0]))
        #expect(c.text == "\"/run/app.sock\"" && c.family == .unix && c.port == nil)
        let d = try #require(SockaddrText([1, 0, 0] + Array("tutor".utf8)))
        #expect(d.text == "\"@tutor\"")

        let e = try #require(SockaddrText(Array(v4.prefix(6))))
        #expect(e.text == "AF_INET, addrlen 6 of 16" && e.port == nil)
        let f = try #require(SockaddrText(Array(v6.prefix(20))))
        #expect(f.text == "AF_INET6, addrlen 20 of 28")
        #expect(SockaddrText([2]) == nil)
        let g = try #require(SockaddrText([1, 0] + Array("a\u{1b}[2J".utf8)))
        #expect(g.text == "\"a\\x1b[2J\"", "control bytes reach no terminal raw")
    }

    // MARK: - pairing

    @Test("entry and exit stops pair per thread, whatever order waitpid reports threads in")
    func pairingAcrossThreads() {
        var phases: [Int32: Tracee.Phase] = [10: .running, 11: .running, 12: .running]
        var log: [String] = []
        func stop(_ tid: Int32, seccomp: Bool = false, entry: Bool) {
            if seccomp {
                phases[tid] = .seccompEntered
                log.append("\(tid) enters")
                return
            }
            switch phases[tid]!.afterSyscallStop(looksLikeEntry: entry) {
            case .enters: phases[tid] = .inCall; log.append("\(tid) enters")
            case .exits: phases[tid] = .running; log.append("\(tid) exits")
            case .becomes(let next): phases[tid] = next
            case .nothing: log.append("\(tid) ?")
            }
        }
        // COMMAND (seccomp): thread 10 and 11 in calls at once, their stops interleaved.
        stop(10, seccomp: true, entry: true)
        stop(11, seccomp: true, entry: true)
        stop(11, entry: true)      // 11's syscall-entry stop after its seccomp stop
        stop(10, entry: true)
        stop(11, entry: false)     // 11 returns first
        stop(10, entry: false)
        // --pid: every call stops twice; 12's exit of a call it was in when attached is not placed.
        stop(12, entry: false)
        stop(12, entry: true)
        stop(12, entry: false)
        #expect(log == ["10 enters", "11 enters", "11 exits", "10 exits", "12 ?", "12 enters", "12 exits"])
        #expect(phases.values.allSatisfy { $0 == .running })
    }

    // MARK: - waitpid statuses and output lines

    @Test("waitpid statuses: exit, signal, syscall stop, seccomp and group stops")
    func statuses() {
        #expect(StopStatus(3 << 8) == .exited(3))
        #expect(StopStatus(SIGKILL) == .killed(SIGKILL))
        #expect(StopStatus(((SIGTRAP | 0x80) << 8) | 0x7F) == .syscall)
        #expect(StopStatus((7 << 16) | (SIGTRAP << 8) | 0x7F) == .event(7, signal: SIGTRAP))
        #expect(StopStatus((128 << 16) | (SIGSTOP << 8) | 0x7F).isGroupStop)
        #expect(!StopStatus((128 << 16) | (SIGTRAP << 8) | 0x7F).isGroupStop)
        #expect(StopStatus((SIGINT << 8) | 0x7F) == .signal(SIGINT))
    }

    @Test("writes are cut into lines per process and stream; the rest waits for its newline")
    func outputLines() {
        var lines = OutputLines()
        #expect(lines.add(Array("hel".utf8), key: "1 stdout") == [])
        #expect(lines.add(Array("lo\nwor".utf8), key: "2 stdout") == ["lo"])
        #expect(lines.add(Array("lo\nsecond\nthi".utf8), key: "1 stdout") == ["hello", "second"])
        #expect(lines.flush(prefix: "1 ").map(\.line) == ["thi"])
        #expect(lines.add(Array("ld\n".utf8), key: "2 stdout") == ["world"])
        let long = lines.add([UInt8](repeating: 65, count: OutputLines.lineLimit + 10), key: "3 stdout")
        #expect(long.count == 1 && long[0].utf8.count == OutputLines.lineLimit, "a line is bounded")
    }

    // MARK: - decoding from memory (this process's own, read through process_vm_readv)

    @Test("calls decoded from memory: connect's sockaddr, sendto's bytes, recvfrom's size, setsockopt's option")
    func decodesFromMemory() throws {
        let decoder = CallDecoder(architecture: .current)
        let memory = TraceeMemory(tid: getpid())
        var table = DescriptorTable()
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(5000).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connect = withUnsafePointer(to: &address) { pointer in
            decoder.entry("connect", [3, UInt64(UInt(bitPattern: pointer)), 16, 0, 0, 0], memory: memory, table: &table)
        }
        #expect(connect.text == "connect(fd 3, 127.0.0.1:5000)")
        let exit = decoder.exit(connect, result: 0, memory: memory, table: &table)
        #expect(exit.text == "connect(fd 3, 127.0.0.1:5000) -> 0")
        #expect(exit.remote == .init(ip: "127.0.0.1", port: 5000))

        let hello = Array("Hello".utf8)
        let send = hello.withUnsafeBytes { bytes in
            decoder.entry("sendto", [3, UInt64(UInt(bitPattern: bytes.baseAddress!)), 5, 0, 0, 0], memory: memory, table: &table)
        }
        #expect(send.text == "sendto(fd 3, \"Hello\", 5)")
        let recv = decoder.entry("recvfrom", [3, 0, 10, 0, 0, 0], memory: memory, table: &table)
        #expect(recv.text == "recvfrom(fd 3, 10)")
        #expect(decoder.exit(recv, result: -11, memory: memory, table: &table).text == "recvfrom(fd 3, 10) -> EAGAIN (Resource temporarily unavailable)")

        var one: Int32 = 1
        let option = withUnsafePointer(to: &one) { pointer in
            decoder.entry("setsockopt", [3, 1, 2, UInt64(UInt(bitPattern: pointer)), 4, 0], memory: memory, table: &table)
        }
        #expect(option.text == "setsockopt(fd 3, SO_REUSEADDR, 1)")
        var linger = (Int32(1), Int32(0))
        let lingerCall = withUnsafePointer(to: &linger) { pointer in
            decoder.entry("setsockopt", [3, 1, 13, UInt64(UInt(bitPattern: pointer)), 8, 0], memory: memory, table: &table)
        }
        #expect(lingerCall.text == "setsockopt(fd 3, SO_LINGER, on, 0s)")
        let nodelay = decoder.entry("setsockopt", [3, 6, 1, 0, 4, 0], memory: memory, table: &table)
        #expect(nodelay.text.hasPrefix("setsockopt(fd 3, TCP_NODELAY, "))
        #expect(decoder.entry("shutdown", [3, 1, 0, 0, 0, 0], memory: memory, table: &table).text == "shutdown(fd 3, SHUT_WR)")
    }
}
