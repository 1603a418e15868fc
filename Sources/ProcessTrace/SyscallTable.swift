/// System-call numbers by name, for one instruction set: the kernel knows calls only by number
/// (`connect` is 42 on x86_64, 203 on aarch64), a lesson only by name.
///
/// Numbers from the kernel's `arch/x86/entry/syscalls/syscall_64.tbl` and
/// `include/uapi/asm-generic/unistd.h` (aarch64 uses the generic table). aarch64 has no poll,
/// select, epoll_wait, epoll_create, dup2, fork or vfork: its C library builds them from ppoll,
/// pselect6, epoll_pwait, epoll_create1, dup3 and clone.
public struct SyscallTable: Sendable {
    public let architecture: String
    private let numbers: [String: Int]
    private let names: [Int: String]

    init(architecture: String, _ pairs: KeyValuePairs<String, Int>) {
        self.architecture = architecture
        var numbers: [String: Int] = [:], names: [Int: String] = [:]
        for (name, number) in pairs {
            numbers[name] = number
            names[number] = name
        }
        self.numbers = numbers
        self.names = names
    }

    /// The number of a call, nil when this instruction set has no such call.
    public func number(_ name: String) -> Int? { numbers[name] }

    /// The name of a number, nil for calls the tracer does not decode.
    public func name(_ number: Int) -> String? { names[number] }

    /// Every call the tracer decodes that this instruction set has.
    public var allNames: [String] { numbers.keys.sorted() }

    /// The calls a traced program stops on, for the seccomp filter: the socket calls, the calls
    /// that can move bytes through a socket or wait for one, descriptor copies and flags, and the
    /// calls that make or end processes (their lanes).
    public static let tracedNames: [String] = [
        "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
        "getpeername", "setsockopt", "getsockopt", "sendto", "sendmsg", "sendmmsg", "recvfrom",
        "recvmsg", "recvmmsg", "read", "write", "readv", "writev", "sendfile", "shutdown", "close",
        "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
        "epoll_wait", "epoll_pwait", "epoll_pwait2", "fcntl", "dup", "dup2", "dup3", "execve",
        "execveat", "clone", "clone3", "fork", "vfork",
    ]

    /// The numbers the seccomp filter traces, in `tracedNames` order.
    public var tracedNumbers: [Int] { Self.tracedNames.compactMap(number) }

    public static let x86_64 = SyscallTable(architecture: "x86_64", [
        "read": 0, "write": 1, "close": 3, "poll": 7, "readv": 19, "writev": 20, "select": 23,
        "dup": 32, "dup2": 33, "sendfile": 40, "socket": 41, "connect": 42, "accept": 43,
        "sendto": 44, "recvfrom": 45, "sendmsg": 46, "recvmsg": 47, "shutdown": 48, "bind": 49,
        "listen": 50, "getsockname": 51, "getpeername": 52, "socketpair": 53, "setsockopt": 54,
        "getsockopt": 55, "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "exit": 60,
        "fcntl": 72, "epoll_create": 213, "exit_group": 231, "epoll_wait": 232, "epoll_ctl": 233,
        "pselect6": 270, "ppoll": 271, "epoll_pwait": 281, "accept4": 288, "epoll_create1": 291,
        "dup3": 292, "recvmmsg": 299, "sendmmsg": 307, "execveat": 322, "clone3": 435,
        "epoll_pwait2": 441,
    ])

    public static let aarch64 = SyscallTable(architecture: "aarch64", [
        "epoll_create1": 20, "epoll_ctl": 21, "epoll_pwait": 22, "dup": 23, "dup3": 24, "fcntl": 25,
        "close": 57, "read": 63, "write": 64, "readv": 65, "writev": 66, "sendfile": 71,
        "pselect6": 72, "ppoll": 73, "exit": 93, "exit_group": 94, "socket": 198, "socketpair": 199,
        "bind": 200, "listen": 201, "accept": 202, "connect": 203, "getsockname": 204,
        "getpeername": 205, "sendto": 206, "recvfrom": 207, "setsockopt": 208, "getsockopt": 209,
        "shutdown": 210, "sendmsg": 211, "recvmsg": 212, "clone": 220, "execve": 221, "accept4": 242,
        "recvmmsg": 243, "sendmmsg": 269, "execveat": 281, "clone3": 435, "epoll_pwait2": 441,
    ])
}
