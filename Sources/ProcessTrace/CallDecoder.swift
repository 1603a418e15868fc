import SocketCore

/// Turns a stopped call's registers and memory into the `--trace` line of our own tools:
/// `connect(fd 3, 127.0.0.1:5000) -> 0`, `recvfrom(fd 4, 10) -> 5 "Hello"`.
///
/// Entry: the arguments, read while the program is stopped before the call (a sockaddr it passes,
/// the bytes it sends). Exit: the result, and what the kernel wrote back (accept's peer, the bytes
/// received). Reads and writes are shown only on sockets, close only of a socket; a write to
/// stdout or stderr becomes an `output` line instead.
///
/// Each side has two halves. The reading half (`readEntry`, `readExit`) runs while the program
/// is stopped and copies only what must be read then: its memory changes once it runs. The
/// formatting half (`formatEntry`, `formatExit`) writes the text after the tracer has resumed
/// it, so the program does not wait while Swift Strings are built.
public struct CallDecoder: Sendable {
    public let architecture: Architecture
    /// The most bytes of a send or receive quoted in a line (strace's `-s 32`).
    public var quoteLimit = 32

    public init(architecture: Architecture) { self.architecture = architecture }

    // MARK: - Entry

    /// The entry in one go: read, then written as text (for tests and one-off use).
    public func entry(_ name: String, _ arguments: [UInt64], memory: TraceeMemory, table: inout DescriptorTable) -> CallEntry {
        var entry = readEntry(name, arguments, memory: memory, table: &table)
        formatEntry(&entry)
        return entry
    }

    /// The reading half, while the thread is stopped at the entry: which descriptor, whether the
    /// timeline shows the call, and a copy of the memory its line quotes. No text yet, except a
    /// sockaddr's: connect()'s destination goes to the capture before the call runs.
    public func readEntry(_ name: String, _ arguments: [UInt64], memory: TraceeMemory, table: inout DescriptorTable) -> CallEntry {
        let tid = memory.tid
        let fd = Int32(truncatingIfNeeded: arguments[0])
        var entry = CallEntry(name: name, arguments: arguments, text: "", fd: nil, shown: true)
        func address(_ pointerIndex: Int, _ lengthIndex: Int) -> SockaddrText? {
            let length = Int(min(arguments[lengthIndex], 128))
            return memory.read(arguments[pointerIndex], count: length).flatMap(SockaddrText.init)
        }
        switch name {
        case "socket", "socketpair", "select", "pselect6", "epoll_create", "epoll_create1", "clone", "fork", "vfork":
            break
        case "bind", "connect":
            entry.fd = fd
            entry.address = address(1, 2)
        case "listen", "accept", "accept4", "getsockname", "getpeername", "getsockopt", "recvfrom",
             "sendmmsg", "recvmmsg", "shutdown", "epoll_wait", "epoll_pwait", "epoll_pwait2":
            entry.fd = fd
        case "setsockopt":
            entry.fd = fd
            let length = Int(arguments[4])
            entry.memory.bytes = memory.read(arguments[3], count: min(max(length, 0), 16))
        case "sendto":
            entry.fd = fd
            entry.memory.bytes = memory.read(arguments[1], count: min(Int(arguments[2]), quoteLimit)) ?? []
            entry.address = arguments[4] != 0 ? address(4, 5) : nil
        case "sendmsg", "recvmsg":
            entry.fd = fd
            entry.memory.messageLength = messageLength(at: arguments[1], memory: memory)
        case "read", "readv", "writev", "sendfile", "dup", "dup2", "dup3", "fcntl":
            entry.fd = fd
            entry.shown = table.isSocket(fd, tid: tid)
        case "write":
            entry.fd = fd
            let count = Int(arguments[2])
            if table.isSocket(fd, tid: tid) {
                entry.memory.bytes = memory.read(arguments[1], count: min(count, quoteLimit)) ?? []
            } else {
                entry.shown = false
                if (fd == 1 || fd == 2) && table.isProgramOutput(fd, tid: tid) {
                    // A write to stdout or stderr: its bytes become `output` lines.
                    entry.outputStream = fd == 1 ? "stdout" : "stderr"
                    entry.outputBytes = memory.read(arguments[1], count: min(count, OutputLines.lineLimit)) ?? []
                }
            }
        case "close":
            entry.fd = fd
            entry.shown = table.isSocket(fd, tid: tid)
            if entry.shown { entry.closedSocket = table[fd] }
        case "poll", "ppoll":
            let shown = min(Int(arguments[1]), 8)
            entry.memory.bytes = shown > 0 ? memory.read(arguments[0], count: shown * 8) : nil
        case "epoll_ctl":
            entry.fd = Int32(truncatingIfNeeded: arguments[2])
            entry.memory.bytes = arguments[3] != 0 ? memory.read(arguments[3], count: 4) : nil
        case "execve", "execveat":
            // The strings must be copied now: after a successful exec they are gone.
            let pathIndex = name == "execve" ? 0 : 1
            entry.memory.path = memory.string(arguments[pathIndex])
            entry.memory.argv = argv(at: arguments[pathIndex + 1], memory: memory)
        case "clone3":
            entry.memory.cloneFlags = memory.word(arguments[0]) ?? 0
        default:
            entry.shown = false
        }
        return entry
    }

    /// The formatting half, after the thread is resumed: the call as our tools write it,
    /// from the arguments and the memory `readEntry` copied.
    public func formatEntry(_ entry: inout CallEntry) {
        let name = entry.name
        let arguments = entry.arguments
        let read = entry.memory
        func fd(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: arguments[index]) }
        func int(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: arguments[index]) }
        /// `fd 3, "abc", 3`: bytes a send hands over, quoted, with `...` when it handed over more.
        func sent(_ count: Int) -> String {
            Trace.quoted(read.bytes ?? [], limit: quoteLimit) + (count > quoteLimit ? "..." : "") + ", \(count)"
        }
        let text: String
        switch name {
        case "socket":
            text = CallNames.family(int(0)) + ", " + CallNames.socketType(int(1)) + (int(2) != 0 ? ", \(int(2))" : "")
        case "socketpair":
            text = CallNames.family(int(0)) + ", " + CallNames.socketType(int(1))
        case "bind", "connect":
            text = "fd \(fd(0)), " + (entry.address?.text ?? "?")
        case "listen":
            text = "fd \(fd(0)), backlog \(int(1))"
        case "accept", "accept4":
            text = "fd \(fd(0))" + (name == "accept4" && int(3) != 0 ? ", " + CallNames.acceptFlags(int(3)) : "")
        case "getsockname", "getpeername", "close", "dup":
            text = "fd \(fd(0))"
        case "setsockopt":
            text = "fd \(fd(0)), " + CallNames.option(level: int(1), name: int(2)) + ", "
                + optionValue(level: int(1), name: int(2), length: Int(arguments[4]), bytes: read.bytes)
        case "getsockopt":
            text = "fd \(fd(0)), " + CallNames.option(level: int(1), name: int(2))
        case "sendto":
            text = "fd \(fd(0)), " + sent(Int(arguments[2])) + CallNames.flagsSuffix(int(3)) + (entry.address.map { ", " + $0.text } ?? "")
        case "recvfrom":
            text = "fd \(fd(0)), \(arguments[2])" + CallNames.flagsSuffix(int(3))
        case "sendmsg", "recvmsg":
            text = "fd \(fd(0)), " + (read.messageLength.map { "\($0)" } ?? "?") + CallNames.flagsSuffix(int(2))
        case "sendmmsg", "recvmmsg":
            text = "fd \(fd(0)), vlen \(int(2))" + CallNames.flagsSuffix(int(3))
        case "read":
            text = "fd \(fd(0)), \(arguments[2])"
        case "readv", "writev":
            text = "fd \(fd(0)), \(int(2)) buffers"
        case "write":
            text = entry.shown ? "fd \(fd(0)), " + sent(Int(arguments[2])) : "fd \(fd(0)), \(Int(arguments[2]))"
        case "sendfile":
            text = "fd \(fd(0)), fd \(fd(1)), \(arguments[3])"
        case "shutdown":
            text = "fd \(fd(0)), " + CallNames.shutdownHow(int(1))
        case "dup2", "dup3":
            text = "fd \(fd(0)), fd \(fd(1))"
        case "fcntl":
            let command = int(1)
            let argument = command == 4 ? ", " + CallNames.fileFlags(int(2)) : command == 2 ? ", \(int(2) & 1 != 0 ? "FD_CLOEXEC" : "0")"
                : command == 0 || command == 1030 ? ", \(int(2))" : ""
            text = "fd \(fd(0)), " + CallNames.fcntlCommand(command) + argument
        case "poll", "ppoll":
            let timeout = name == "poll" ? ", timeout \(int(2))" : ""
            text = pollList(read.bytes, count: Int(arguments[1])) + ", \(arguments[1])" + timeout
        case "select", "pselect6":
            text = "nfds \(int(0))"
        case "epoll_create", "epoll_create1":
            text = name == "epoll_create1" ? (int(0) != 0 ? "EPOLL_CLOEXEC" : "0") : "\(int(0))"
        case "epoll_ctl":
            let events = read.bytes.flatMap(epollEvents)
            text = "epfd \(fd(0)), " + CallNames.epollOperation(int(1)) + ", fd \(fd(2))" + (events.map { ", " + $0 } ?? "")
        case "epoll_wait", "epoll_pwait", "epoll_pwait2":
            text = "epfd \(fd(0)), \(int(2))" + (name == "epoll_pwait2" ? "" : ", timeout \(int(3))")
        case "execve", "execveat":
            let path = read.path.map { Trace.quoted(Array($0.utf8), limit: 256) } ?? "?"
            text = path + ", [" + read.argv.map { Trace.quoted(Array($0.utf8), limit: 128) }.joined(separator: ", ") + "]"
        case "clone":
            text = UInt64(arguments[0]) & 0x10000 != 0 ? "thread" : "process"
        case "clone3":
            text = read.cloneFlags & 0x10000 != 0 ? "thread" : "process"
        default:
            text = ""
        }
        entry.text = name + "(" + text + ")"
    }

    // MARK: - Exit

    /// The exit in one go: read, then written as text (for tests and one-off use).
    public func exit(_ entry: CallEntry, result: Int64, memory: TraceeMemory, table: inout DescriptorTable) -> CallExit {
        formatExit(entry, readExit(entry, result: result, memory: memory, table: &table))
    }

    /// The reading half, while the thread is stopped at the exit: the bytes the kernel wrote
    /// back that the line shows, what the call taught the table (a new socket, its addresses),
    /// and the socket's ends as the table then knows them.
    public func readExit(_ entry: CallEntry, result: Int64, memory: TraceeMemory, table: inout DescriptorTable) -> CallReturn {
        var returned = CallReturn(result: result)
        if !returned.failed {
            returned.bytes = returnedBytes(entry, result: result, memory: memory)
            learn(entry, result: result, returned: returned.bytes, table: &table)
        }
        let ends = entry.closedSocket ?? entry.fd.flatMap { table[$0] }
        (returned.local, returned.remote) = (ends?.local, ends?.remote)
        if entry.name == "accept" || entry.name == "accept4", !returned.failed, let new = table[Int32(truncatingIfNeeded: result)] {
            (returned.local, returned.remote) = (new.local, new.remote)
        }
        return returned
    }

    /// What a successful call wrote in the program's memory that its line shows.
    private func returnedBytes(_ entry: CallEntry, result: Int64, memory: TraceeMemory) -> [UInt8]? {
        switch entry.name {
        case "accept", "accept4":
            let length = memory.int32(entry.arguments[2]).map { Int(min(max($0, 0), 128)) } ?? 0
            return entry.arguments[1] != 0 ? memory.read(entry.arguments[1], count: length) : nil
        case "socketpair":
            return memory.read(entry.arguments[3], count: 8)
        case "getsockname", "getpeername":
            let length = memory.int32(entry.arguments[2]).map { Int(min(max($0, 0), 128)) } ?? 0
            return memory.read(entry.arguments[1], count: length)
        case "getsockopt":
            return memory.read(entry.arguments[3], count: 4)
        case "recvfrom", "read":
            if result == 0 { return nil }
            return memory.read(entry.arguments[1], count: Int(min(result, Int64(quoteLimit)))) ?? []
        default:
            return nil
        }
    }

    /// The formatting half, after the thread is resumed: the line with its result, and the
    /// event's result field (a number, or the errno's name).
    public func formatExit(_ entry: CallEntry, _ returned: CallReturn) -> CallExit {
        let result = returned.result
        let resultText: String
        let value: CallExit.ResultValue
        if returned.failed {
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
            resultText = success(entry, result: result, bytes: returned.bytes)
            value = .number(result)
        }
        return CallExit(text: entry.text + " -> " + resultText, result: value, local: returned.local, remote: returned.remote)
    }

    /// The result of a call that succeeded, as our tools write it: `fd 4`, `5 "Hello"`, `0 (peer closed)`.
    private func success(_ entry: CallEntry, result: Int64, bytes: [UInt8]?) -> String {
        switch entry.name {
        case "socket", "dup", "dup2", "dup3", "epoll_create", "epoll_create1":
            return "fd \(result)"
        case "fcntl" where entry.int(1) == 0 || entry.int(1) == 1030:
            return "fd \(result)"
        case "fcntl" where entry.int(1) == 3:
            return CallNames.fileFlags(Int32(truncatingIfNeeded: result))
        case "accept", "accept4":
            return "fd \(result)" + (bytes.flatMap(SockaddrText.init).map { " from " + $0.text } ?? "")
        case "socketpair":
            guard let pair = bytes, pair.count == 8 else { return "\(result)" }
            let (a, b) = pair.withUnsafeBytes { ($0.loadUnaligned(as: Int32.self), $0.loadUnaligned(fromByteOffset: 4, as: Int32.self)) }
            return "[fd \(a), fd \(b)]"
        case "getsockname", "getpeername":
            return "0" + (bytes.flatMap(SockaddrText.init).map { " " + $0.text } ?? "")
        case "getsockopt":
            guard let value = bytes, value.count == 4 else { return "0" }
            return "0, value \(value.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })"
        case "recvfrom", "read":
            if result == 0 { return "0 (peer closed)" }
            return "\(result) " + Trace.quoted(bytes ?? [], limit: quoteLimit) + (result > quoteLimit ? "..." : "")
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
    private func learn(_ entry: CallEntry, result: Int64, returned bytes: [UInt8]?, table: inout DescriptorTable) {
        let fd = entry.fd
        let new = Int32(truncatingIfNeeded: result)
        switch entry.name {
        case "socket":
            table[new] = .init(isSocket: true)
        case "accept", "accept4":
            var socket = DescriptorTable.Entry(isSocket: true)
            socket.local = fd.flatMap { table[$0]?.local }
            // The peer, as the kernel wrote it into the program's sockaddr: known even when the
            // tracer cannot ask the kernel itself (pidfd_getfd + getpeername) afterwards.
            if let peer = bytes.flatMap(SockaddrText.init), let ip = peer.ip, let port = peer.port {
                socket.remote = .init(ip: Tracer.unmapped(ip), port: port)
            }
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

    /// An option's value, from the bytes `readEntry` copied (at most 16): an `int` as a number,
    /// a `struct linger` as `on, 0s`, TCP_CONGESTION's name, else its length.
    private func optionValue(level: Int32, name: Int32, length: Int, bytes: [UInt8]?) -> String {
        if level == 1 && name == 13, length >= 8, let bytes, bytes.count >= 8 {
            let (on, seconds) = bytes.withUnsafeBytes { ($0.loadUnaligned(as: Int32.self), $0.loadUnaligned(fromByteOffset: 4, as: Int32.self)) }
            return on != 0 ? "on, \(seconds)s" : "off"
        }
        if length == 4, let bytes, bytes.count == 4 { return "\(bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })" }
        if level == 6 && name == 13, let bytes { return "\"" + String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self) + "\"" }
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

    /// `[fd 3 POLLIN, fd 4 POLLIN]`: a `struct pollfd` array (as copied, at most 8 shown).
    private func pollList(_ bytes: [UInt8]?, count: Int) -> String {
        let shown = min(count, 8)
        guard shown > 0, let bytes, bytes.count == shown * 8 else { return "[]" }
        let items = bytes.withUnsafeBytes { raw in
            (0..<shown).map { index in
                "fd \(raw.loadUnaligned(fromByteOffset: index * 8, as: Int32.self)) "
                    + CallNames.pollEvents(Int32(raw.loadUnaligned(fromByteOffset: index * 8 + 4, as: Int16.self)))
            }
        }
        return "[" + items.joined(separator: ", ") + (count > shown ? ", ..." : "") + "]"
    }

    /// A `struct epoll_event`'s events: packed (12 bytes) on x86_64, 16 bytes on aarch64; the
    /// events word comes first on both (`readEntry` copies those 4 bytes).
    private func epollEvents(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 4 else { return nil }
        return CallNames.epollEvents(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
    }

    /// An argv array's strings: at most 16 entries of 128 bytes.
    private func argv(at address: UInt64, memory: TraceeMemory) -> [String] {
        var items: [String] = []
        var at = address
        while items.count < 16, let pointer = memory.word(at), pointer != 0 {
            items.append(memory.string(pointer, limit: 128) ?? "?")
            at += 8
        }
        return items
    }
}
