import SocketCore

/// Turns a stopped call's registers and memory into the `--trace` line of our own tools:
/// `connect(fd 3, 127.0.0.1:5000) -> 0`, `recvfrom(fd 4, 10) -> 5 "Hello"`.
///
/// Entry: the arguments, read while the program is stopped before the call (a sockaddr it passes,
/// the bytes it sends). Exit: the result, and what the kernel wrote back (accept's peer, the bytes
/// received). Reads and writes are shown only on sockets, close only of a socket; a write to
/// stdout or stderr becomes an `output` line instead.
public struct CallDecoder: Sendable {
    public let architecture: Architecture
    /// The most bytes of a send or receive quoted in a line (strace's `-s 32`).
    public var quoteLimit = 32

    public init(architecture: Architecture) { self.architecture = architecture }

    // MARK: - Entry

    public func entry(_ name: String, _ arguments: [UInt64], memory: TraceeMemory, table: inout DescriptorTable) -> CallEntry {
        let tid = memory.tid
        func fd(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: arguments[index]) }
        func int(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: arguments[index]) }
        func make(_ text: String, fd: Int32? = nil, shown: Bool = true) -> CallEntry {
            CallEntry(name: name, arguments: arguments, text: name + "(" + text + ")", fd: fd, shown: shown)
        }
        func address(_ pointerIndex: Int, _ lengthIndex: Int) -> SockaddrText? {
            let length = Int(min(arguments[lengthIndex], 128))
            return memory.read(arguments[pointerIndex], count: length).flatMap(SockaddrText.init)
        }
        switch name {
        case "socket":
            return make(CallNames.family(int(0)) + ", " + CallNames.socketType(int(1)) + (int(2) != 0 ? ", \(int(2))" : ""))
        case "socketpair":
            return make(CallNames.family(int(0)) + ", " + CallNames.socketType(int(1)))
        case "bind", "connect":
            let sockaddr = address(1, 2)
            var entry = make("fd \(fd(0)), " + (sockaddr?.text ?? "?"), fd: fd(0))
            entry.address = sockaddr
            return entry
        case "listen":
            return make("fd \(fd(0)), backlog \(int(1))", fd: fd(0))
        case "accept", "accept4":
            let flags = name == "accept4" && int(3) != 0 ? ", " + CallNames.acceptFlags(int(3)) : ""
            return make("fd \(fd(0))" + flags, fd: fd(0))
        case "getsockname", "getpeername":
            return make("fd \(fd(0))", fd: fd(0))
        case "setsockopt":
            return make("fd \(fd(0)), " + CallNames.option(level: int(1), name: int(2)) + ", "
                        + optionValue(level: int(1), name: int(2), at: arguments[3], length: Int(arguments[4]), memory: memory), fd: fd(0))
        case "getsockopt":
            return make("fd \(fd(0)), " + CallNames.option(level: int(1), name: int(2)), fd: fd(0))
        case "sendto":
            let count = Int(arguments[2])
            let bytes = memory.read(arguments[1], count: min(count, quoteLimit)) ?? []
            let destination = arguments[4] != 0 ? address(4, 5) : nil
            var entry = make("fd \(fd(0)), " + Trace.quoted(bytes, limit: quoteLimit) + (count > quoteLimit ? "..." : "")
                             + ", \(count)" + CallNames.flagsSuffix(int(3)) + (destination.map { ", " + $0.text } ?? ""), fd: fd(0))
            entry.address = destination
            return entry
        case "recvfrom":
            return make("fd \(fd(0)), \(arguments[2])" + CallNames.flagsSuffix(int(3)), fd: fd(0))
        case "sendmsg", "recvmsg":
            let total = messageLength(at: arguments[1], memory: memory)
            return make("fd \(fd(0)), " + (total.map { "\($0)" } ?? "?") + CallNames.flagsSuffix(int(2)), fd: fd(0))
        case "sendmmsg", "recvmmsg":
            return make("fd \(fd(0)), vlen \(int(2))" + CallNames.flagsSuffix(int(3)), fd: fd(0))
        case "read", "readv":
            let socket = table.isSocket(fd(0), tid: tid)
            let count = name == "read" ? "\(arguments[2])" : "\(int(2)) buffers"
            return make("fd \(fd(0)), " + count, fd: fd(0), shown: socket)
        case "write":
            return write(arguments, memory: memory, table: &table, make: make)
        case "writev":
            let socket = table.isSocket(fd(0), tid: tid)
            return make("fd \(fd(0)), \(int(2)) buffers", fd: fd(0), shown: socket)
        case "sendfile":
            return make("fd \(fd(0)), fd \(fd(1)), \(arguments[3])", fd: fd(0), shown: table.isSocket(fd(0), tid: tid))
        case "shutdown":
            return make("fd \(fd(0)), " + CallNames.shutdownHow(int(1)), fd: fd(0))
        case "close":
            var entry = make("fd \(fd(0))", fd: fd(0), shown: table.isSocket(fd(0), tid: tid))
            if entry.shown { entry.closedSocket = table[fd(0)] }
            return entry
        case "dup":
            return make("fd \(fd(0))", fd: fd(0), shown: table.isSocket(fd(0), tid: tid))
        case "dup2", "dup3":
            return make("fd \(fd(0)), fd \(fd(1))", fd: fd(0), shown: table.isSocket(fd(0), tid: tid))
        case "fcntl":
            let command = int(1)
            let argument = command == 4 ? ", " + CallNames.fileFlags(int(2)) : command == 2 ? ", \(int(2) & 1 != 0 ? "FD_CLOEXEC" : "0")"
                : command == 0 || command == 1030 ? ", \(int(2))" : ""
            return make("fd \(fd(0)), " + CallNames.fcntlCommand(command) + argument, fd: fd(0), shown: table.isSocket(fd(0), tid: tid))
        case "poll", "ppoll":
            let timeout = name == "poll" ? ", timeout \(int(2))" : ""
            return make(pollList(at: arguments[0], count: Int(arguments[1]), memory: memory) + ", \(arguments[1])" + timeout)
        case "select", "pselect6":
            return make("nfds \(int(0))")
        case "epoll_create", "epoll_create1":
            return make(name == "epoll_create1" ? (int(0) != 0 ? "EPOLL_CLOEXEC" : "0") : "\(int(0))")
        case "epoll_ctl":
            let events = epollEvents(at: arguments[3], memory: memory)
            return make("epfd \(fd(0)), " + CallNames.epollOperation(int(1)) + ", fd \(fd(2))" + (events.map { ", " + $0 } ?? ""), fd: fd(2))
        case "epoll_wait", "epoll_pwait", "epoll_pwait2":
            let timeout = name == "epoll_pwait2" ? "" : ", timeout \(int(3))"
            return make("epfd \(fd(0)), \(int(2))" + timeout, fd: fd(0))
        case "execve", "execveat":
            let pathIndex = name == "execve" ? 0 : 1
            let path = memory.string(arguments[pathIndex]).map { Trace.quoted(Array($0.utf8), limit: 256) } ?? "?"
            return make(path + ", " + argv(at: arguments[pathIndex + 1], memory: memory))
        case "clone":
            return make(UInt64(arguments[0]) & 0x10000 != 0 ? "thread" : "process")
        case "clone3":
            let flags = memory.word(arguments[0]) ?? 0
            return make(flags & 0x10000 != 0 ? "thread" : "process")
        case "fork", "vfork":
            return make("")
        default:
            return make("", shown: false)
        }
    }

    /// A write(2): on a socket a call line; on stdout or stderr an `output` line; else nothing.
    private func write(_ arguments: [UInt64], memory: TraceeMemory, table: inout DescriptorTable,
                       make: (String, Int32?, Bool) -> CallEntry) -> CallEntry {
        let fd = Int32(truncatingIfNeeded: arguments[0])
        let count = Int(arguments[2])
        if table.isSocket(fd, tid: memory.tid) {
            let bytes = memory.read(arguments[1], count: min(count, quoteLimit)) ?? []
            return make("fd \(fd), " + Trace.quoted(bytes, limit: quoteLimit) + (count > quoteLimit ? "..." : "") + ", \(count)", fd, true)
        }
        var entry = make("fd \(fd), \(count)", fd, false)
        if (fd == 1 || fd == 2) && table.isProgramOutput(fd, tid: memory.tid) {
            entry.outputStream = fd == 1 ? "stdout" : "stderr"
            entry.outputBytes = memory.read(arguments[1], count: min(count, OutputLines.lineLimit)) ?? []
        }
        return entry
    }

    // MARK: - Exit

    /// The line with its result, and what the call taught the table (a new socket, its addresses).
    public func exit(_ entry: CallEntry, result: Int64, memory: TraceeMemory, table: inout DescriptorTable) -> CallExit {
        let failed = result < 0 && result >= -4095
        let resultText: String
        let value: CallExit.ResultValue
        if failed {
            let code = -result
            if let restart = CallNames.restartCodes[code] {
                resultText = restart + " (interrupted by a signal)"
                value = .error(restart)
            } else {
                let error = Errno(rawValue: Int32(code))
                resultText = error.description
                value = .error(error.name)
            }
        } else {
            resultText = success(entry, result: result, memory: memory, table: &table)
            value = .number(result)
        }
        if !failed { learn(entry, result: result, table: &table) }
        let ends = entry.closedSocket ?? entry.fd.flatMap { table[$0] }
        var local = ends?.local, remote = ends?.remote
        if entry.name == "accept" || entry.name == "accept4", !failed, let new = table[Int32(truncatingIfNeeded: result)] {
            (local, remote) = (new.local, new.remote)
        }
        return CallExit(text: entry.text + " -> " + resultText, result: value, local: local, remote: remote)
    }

    /// The result of a call that succeeded, as our tools write it: `fd 4`, `5 "Hello"`, `0 (peer closed)`.
    private func success(_ entry: CallEntry, result: Int64, memory: TraceeMemory, table: inout DescriptorTable) -> String {
        switch entry.name {
        case "socket", "dup", "dup2", "dup3", "epoll_create", "epoll_create1":
            return "fd \(result)"
        case "fcntl" where entry.int(1) == 0 || entry.int(1) == 1030:
            return "fd \(result)"
        case "fcntl" where entry.int(1) == 3:
            return CallNames.fileFlags(Int32(truncatingIfNeeded: result))
        case "accept", "accept4":
            let length = memory.int32(entry.arguments[2]).map { Int(min(max($0, 0), 128)) } ?? 0
            let peer = entry.arguments[1] != 0 ? memory.read(entry.arguments[1], count: length).flatMap(SockaddrText.init) : nil
            return "fd \(result)" + (peer.map { " from " + $0.text } ?? "")
        case "socketpair":
            guard let pair = memory.read(entry.arguments[3], count: 8), pair.count == 8 else { return "\(result)" }
            let (a, b) = pair.withUnsafeBytes { ($0.loadUnaligned(as: Int32.self), $0.loadUnaligned(fromByteOffset: 4, as: Int32.self)) }
            return "[fd \(a), fd \(b)]"
        case "getsockname", "getpeername":
            let length = memory.int32(entry.arguments[2]).map { Int(min(max($0, 0), 128)) } ?? 0
            let name = memory.read(entry.arguments[1], count: length).flatMap(SockaddrText.init)
            return "0" + (name.map { " " + $0.text } ?? "")
        case "getsockopt":
            let value = memory.int32(entry.arguments[3])
            return "0" + (value.map { ", value \($0)" } ?? "")
        case "recvfrom", "read":
            if result == 0 { return "0 (peer closed)" }
            let bytes = memory.read(entry.arguments[1], count: Int(min(result, Int64(quoteLimit)))) ?? []
            return "\(result) " + Trace.quoted(bytes, limit: quoteLimit) + (result > quoteLimit ? "..." : "")
        case "recvmsg", "readv":
            return result == 0 ? "0 (peer closed)" : "\(result)"
        case "poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2":
            return "\(result) ready"
        case "clone", "clone3", "fork", "vfork":
            return entry.text.contains("thread") ? "tid \(result)" : "pid \(result)"
        default:
            return "\(result)"
        }
    }

    /// Updates the descriptor table with what a successful call did.
    private func learn(_ entry: CallEntry, result: Int64, table: inout DescriptorTable) {
        let fd = entry.fd
        let new = Int32(truncatingIfNeeded: result)
        switch entry.name {
        case "socket":
            table[new] = .init(isSocket: true)
        case "accept", "accept4":
            var socket = DescriptorTable.Entry(isSocket: true)
            socket.local = fd.flatMap { table[$0]?.local }
            table[new] = socket
        case "socketpair":
            break   // named when used (`isSocket` finds them in /proc)
        case "bind":
            if let fd, let address = entry.address, let ip = address.ip, let port = address.port {
                var socket = table[fd] ?? .init(isSocket: true)
                socket.local = .init(ip: ip, port: port)
                table[fd] = socket
            }
        case "connect":
            if let fd, let address = entry.address, let ip = address.ip, let port = address.port {
                var socket = table[fd] ?? .init(isSocket: true)
                socket.remote = .init(ip: ip, port: port)
                table[fd] = socket
            }
        case "listen":
            if let fd { table[fd]?.listening = true }
        case "close":
            if let fd { table.remove(fd) }
        case "dup", "dup2", "dup3":
            table.remove(new)   // whatever `new` was is closed first
            if let fd, let copied = table[fd] { table[new] = copied }
        case "fcntl" where entry.int(1) == 0 || entry.int(1) == 1030:
            if let fd, let copied = table[fd] { table[new] = copied }
        case "fcntl" where entry.int(1) == 4:
            if let fd, table[fd] != nil { table[fd]?.nonBlocking = entry.int(2) & 0o4000 != 0 }
        default:
            break
        }
    }

    // MARK: - Memory shapes

    /// An option's value: an `int` as a number, a `struct linger` as `on, 0s`, else its length.
    private func optionValue(level: Int32, name: Int32, at address: UInt64, length: Int, memory: TraceeMemory) -> String {
        if level == 1 && name == 13, length >= 8, let bytes = memory.read(address, count: 8), bytes.count == 8 {
            let (on, seconds) = bytes.withUnsafeBytes { ($0.loadUnaligned(as: Int32.self), $0.loadUnaligned(fromByteOffset: 4, as: Int32.self)) }
            return on != 0 ? "on, \(seconds)s" : "off"
        }
        if length == 4, let value = memory.int32(address) { return "\(value)" }
        if level == 6 && name == 13, let text = memory.string(address, limit: min(max(length, 0), 16)) { return "\"\(text)\"" }
        return "\(length) bytes"
    }

    /// The total length of a `struct msghdr`'s buffers (msg_iov, msg_iovlen): at most 64 read.
    private func messageLength(at address: UInt64, memory: TraceeMemory) -> Int? {
        // struct msghdr on 64-bit Linux: name(8) namelen(4)+pad(4) iov(8) iovlen(8) control(8) controllen(8) flags(4)
        guard let header = memory.read(address, count: 56), header.count == 56 else { return nil }
        let (iov, count) = header.withUnsafeBytes { ($0.loadUnaligned(fromByteOffset: 16, as: UInt64.self), $0.loadUnaligned(fromByteOffset: 24, as: UInt64.self)) }
        let entries = Int(min(count, 64))
        guard let vectors = memory.read(iov, count: entries * 16), vectors.count == entries * 16 else { return nil }
        return vectors.withUnsafeBytes { raw in (0..<entries).reduce(0) { $0 + Int(raw.loadUnaligned(fromByteOffset: $1 * 16 + 8, as: UInt64.self)) } }
    }

    /// `[fd 3 POLLIN, fd 4 POLLIN]`: a `struct pollfd` array, at most 8 shown.
    private func pollList(at address: UInt64, count: Int, memory: TraceeMemory) -> String {
        let shown = min(count, 8)
        guard shown > 0, let bytes = memory.read(address, count: shown * 8), bytes.count == shown * 8 else { return "[]" }
        let items = bytes.withUnsafeBytes { raw in
            (0..<shown).map { index in
                "fd \(raw.loadUnaligned(fromByteOffset: index * 8, as: Int32.self)) "
                    + CallNames.pollEvents(Int32(raw.loadUnaligned(fromByteOffset: index * 8 + 4, as: Int16.self)))
            }
        }
        return "[" + items.joined(separator: ", ") + (count > shown ? ", ..." : "") + "]"
    }

    /// A `struct epoll_event`'s events: packed (12 bytes) on x86_64, 16 bytes on aarch64; the
    /// events word comes first on both.
    private func epollEvents(at address: UInt64, memory: TraceeMemory) -> String? {
        guard address != 0, let bytes = memory.read(address, count: 4), bytes.count == 4 else { return nil }
        return CallNames.epollEvents(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
    }

    /// `["python3", "client.py"]`: an argv array, at most 16 entries of 128 bytes.
    private func argv(at address: UInt64, memory: TraceeMemory) -> String {
        var items: [String] = []
        var at = address
        while items.count < 16, let pointer = memory.word(at), pointer != 0 {
            items.append(Trace.quoted(Array((memory.string(pointer, limit: 128) ?? "?").utf8), limit: 128))
            at += 8
        }
        return "[" + items.joined(separator: ", ") + "]"
    }
}
