import Foundation
import Testing
import TestSupport

/// The README's promise, kept true: every C system call of the project is made in
/// `Sources/SocketCore/Syscalls`, wrapped once, named in its errors and traced there. This reads
/// every Swift file of `Sources/` and fails with file:line for a call made anywhere else.
///
/// A call is `name(` (or `Glibc.name(`) in code, with comments and string literals left out. A
/// bare `name(` is a Swift method when the module itself declares `func name(`: `socket.send(`
/// or a `read(` inside a type with its own `read` are not C calls. stdio's buffered output
/// (fputs, fwrite, fflush) and inet_pton/ntop are library functions, not system calls, and stay
/// out of the list.
@Suite struct SyscallBoundaryTests {
    static let calls: Set<String> = [
        "socket", "socketpair", "bind", "listen", "connect", "accept", "accept4", "recv", "recvfrom",
        "recvmsg", "recvmmsg", "send", "sendto", "sendmsg", "sendmmsg", "sendfile", "read", "write",
        "readv", "writev", "pread", "pwrite", "close", "shutdown", "poll", "ppoll", "select", "pselect",
        "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "pipe", "pipe2", "fork", "vfork",
        "execve", "execvp", "posix_spawn", "posix_spawnp", "waitpid", "waitid", "wait4", "kill",
        "killpg", "ptrace", "mount", "umount2", "open", "openat", "creat", "fcntl", "ioctl", "dup",
        "dup2", "dup3", "setsockopt", "getsockopt", "getsockname", "getpeername", "unlink", "rmdir",
        "mkdir", "rename", "stat", "fstat", "lstat", "fstatat", "opendir", "fdopendir", "readdir",
        "closedir", "setsid", "setpgid", "prctl", "sigaction", "sigprocmask", "pthread_sigmask",
        "sigwait", "signal", "raise", "chdir", "getdents64", "fopen", "fread", "fclose", "getline",
        "unshare", "setns", "process_vm_readv", "setrlimit", "getrlimit", "setuid", "setgid",
        "nanosleep", "usleep", "sleep", "pause", "isatty", "statfs", "readlink", "realpath", "access",
        "chmod", "chown", "truncate", "ftruncate", "mmap", "munmap", "lseek", "seccomp",
    ]

    @Test func everySystemCallIsMadeInSyscalls() throws {
        let sources = packageRoot.appendingPathComponent("Sources")
        var modules: [String: [URL]] = [:]
        let walker = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let module = url.path.dropFirst(sources.path.count + 1).split(separator: "/").first.map(String.init) ?? ""
            modules[module, default: []].append(url)
        }
        #expect(modules.count > 5, "found no sources under \(sources.path)")
        var violations: [String] = []
        for (_, files) in modules {
            let codes = try files.map { (url: $0, code: Self.codeOnly(try String(contentsOf: $0, encoding: .utf8))) }
            let declared = Set(codes.flatMap { Self.declaredFunctions(in: $0.code) })
            for (url, code) in codes where !url.path.contains("/Sources/SocketCore/Syscalls/") {
                for (number, line) in code.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    for call in Self.calls(in: line) where call.qualified || !declared.contains(call.name) {
                        let path = url.path.dropFirst(packageRoot.path.count + 1)
                        violations.append("\(path):\(number + 1): \(call.name)() outside Sources/SocketCore/Syscalls")
                    }
                }
            }
        }
        #expect(violations.isEmpty, Comment(rawValue: "\(violations.count) system calls outside Syscalls:\n" + violations.sorted().joined(separator: "\n")))
    }

    @Test func theCheckFindsACallAndSkipsStringsAndComments() {
        let code = Self.codeOnly("""
            let fd = open(path, O_RDONLY)   // close(fd) in a comment
            let text = "connect() in a string, \\(x ?? "send()") too"
            /* read(fd) */ socket.send(bytes)
            _ = Glibc.close(fd)
            """)
        let found = code.split(separator: "\n").flatMap { Self.calls(in: $0).map(\.name) }
        #expect(found == ["open", "close"])
    }

    /// The calls of `line`: a listed name followed by `(`, not preceded by a `.` (a method) unless
    /// the `.` belongs to `Glibc.`, nor by `func `.
    static func calls(in line: Substring) -> [(name: String, qualified: Bool)] {
        var found: [(String, Bool)] = []
        let bytes = Array(line.utf8)
        var index = 0
        while index < bytes.count {
            guard isIdentifier(bytes[index]), index == 0 || !isIdentifier(bytes[index - 1]) else { index += 1; continue }
            var end = index
            while end < bytes.count && isIdentifier(bytes[end]) { end += 1 }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            defer { index = end }
            guard end < bytes.count, bytes[end] == UInt8(ascii: "("), calls.contains(name) else { continue }
            let before = String(decoding: bytes[..<index], as: UTF8.self)
            if before.hasSuffix("Glibc.") { found.append((name, true)); continue }
            if before.hasSuffix(".") || before.hasSuffix("func ") || before.hasSuffix("case ") { continue }   // a method, a declaration, an enum case
            if name == "stat" && end + 1 < bytes.count && bytes[end + 1] == UInt8(ascii: ")") { continue }   // `stat()`: the struct
            found.append((name, false))
        }
        return found
    }

    static func declaredFunctions(in code: String) -> [String] {
        var names: [String] = []
        for line in code.split(separator: "\n") {
            var rest = line[...]
            while let range = rest.range(of: "func ") {
                let name = rest[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if !name.isEmpty { names.append(String(name)) }
                rest = rest[range.upperBound...]
            }
        }
        return names
    }

    private static func isIdentifier(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    /// The code with comments and string literals blanked (lines kept, so numbers stay right).
    /// Knows `//`, nested `/* */`, `"..."` and `"""..."""` with `\(...)` interpolations inside.
    static func codeOnly(_ source: String) -> String {
        let input = Array(source.utf8)
        var output = input
        var index = 0
        // A stack of what we are in: strings (multi-line or not) and interpolations (their paren depth).
        enum Context { case string(multiline: Bool), interpolation(depth: Int) }
        var stack: [Context] = []
        func blank(_ range: Range<Int>) {
            for i in range where output[i] != 0x0A { output[i] = 0x20 }
        }
        func starts(_ text: String, at i: Int) -> Bool {
            let t = Array(text.utf8)
            return i + t.count <= input.count && Array(input[i..<(i + t.count)]) == t
        }
        while index < input.count {
            switch stack.last {
            case .string(let multiline)?:
                if input[index] == 0x5C, index + 1 < input.count, input[index + 1] == 0x28 {   // \(
                    blank(index..<(index + 2)); index += 2
                    stack.append(.interpolation(depth: 0))
                } else if input[index] == 0x5C {
                    blank(index..<min(index + 2, input.count)); index += 2
                } else if multiline ? starts("\"\"\"", at: index) : input[index] == 0x22 {
                    let length = multiline ? 3 : 1
                    blank(index..<(index + length)); index += length
                    stack.removeLast()
                } else if !multiline && input[index] == 0x0A {
                    stack.removeLast(); index += 1   // an unterminated literal ends with its line
                } else {
                    blank(index..<(index + 1)); index += 1
                }
            default:
                if starts("//", at: index) {
                    var end = index
                    while end < input.count && input[end] != 0x0A { end += 1 }
                    blank(index..<end); index = end
                } else if starts("/*", at: index) {
                    var depth = 0, end = index
                    repeat {
                        if starts("/*", at: end) { depth += 1; end += 2 }
                        else if starts("*/", at: end) { depth -= 1; end += 2 }
                        else { end += 1 }
                    } while depth > 0 && end < input.count
                    blank(index..<min(end, input.count)); index = end
                } else if starts("\"\"\"", at: index) {
                    blank(index..<(index + 3)); index += 3
                    stack.append(.string(multiline: true))
                } else if input[index] == 0x22 {
                    blank(index..<(index + 1)); index += 1
                    stack.append(.string(multiline: false))
                } else if case .interpolation(let depth)? = stack.last, input[index] == 0x28 || input[index] == 0x29 {
                    if input[index] == 0x29 && depth == 0 {
                        blank(index..<(index + 1)); stack.removeLast()
                    } else {
                        stack[stack.count - 1] = .interpolation(depth: depth + (input[index] == 0x28 ? 1 : -1))
                    }
                    index += 1
                } else {
                    index += 1
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
