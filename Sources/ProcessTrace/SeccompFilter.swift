@preconcurrency import Glibc
import CLinux

/// The seccomp-BPF program installed in COMMAND before execve: only the listed calls stop for
/// the tracer (SECCOMP_RET_TRACE, a PTRACE_EVENT_SECCOMP stop); every other call (Python's
/// thousands of opens and mmaps at start-up) runs at full speed, never seeing the tracer.
///
/// The program reads `struct seccomp_data { int nr; __u32 arch; ... }`:
///
///     ld  [4]                  arch
///     jeq AUDIT_ARCH, +1, +0
///     ret ALLOW                another instruction set (i386 on x86_64): not ours
///     ld  [0]                  nr
///     jeq N1, → trace          one test per traced call
///     ...
///     ret ALLOW
///     ret TRACE
public struct SeccompFilter: Sendable {
    public let instructions: [sock_filter]

    /// BPF opcodes (linux/bpf_common.h).
    static let loadWord: UInt16 = 0x20     // BPF_LD | BPF_W | BPF_ABS
    static let jumpEqual: UInt16 = 0x15    // BPF_JMP | BPF_JEQ | BPF_K
    static let jump: UInt16 = 0x05         // BPF_JMP | BPF_JA
    static let ret: UInt16 = 0x06          // BPF_RET | BPF_K
    static let allow: UInt32 = 0x7FFF_0000 // SECCOMP_RET_ALLOW
    static let trace: UInt32 = 0x7FF0_0000 // SECCOMP_RET_TRACE

    /// The filter that traces `numbers` for `architecture`. At most 255 numbers: a BPF jump
    /// offset is one byte.
    public init(tracing numbers: [Int], architecture: Architecture) {
        precondition(numbers.count < 250, "a jump offset is one byte")
        var program: [sock_filter] = [
            sock_filter(code: Self.loadWord, jt: 0, jf: 0, k: 4),
            sock_filter(code: Self.jumpEqual, jt: 1, jf: 0, k: architecture.auditArch),
            sock_filter(code: Self.ret, jt: 0, jf: 0, k: Self.allow),
            sock_filter(code: Self.loadWord, jt: 0, jf: 0, k: 0),
        ]
        for (index, number) in numbers.enumerated() {
            // Jump past the remaining tests and the `ret ALLOW` to the final `ret TRACE`.
            let toTrace = UInt8(numbers.count - index)
            program.append(sock_filter(code: Self.jumpEqual, jt: toTrace, jf: 0, k: UInt32(number)))
        }
        program.append(sock_filter(code: Self.ret, jt: 0, jf: 0, k: Self.allow))
        program.append(sock_filter(code: Self.ret, jt: 0, jf: 0, k: Self.trace))
        instructions = program
    }

    /// The filter for the calls the tracer decodes (`SyscallTable.tracedNames`).
    public static func standard(for architecture: Architecture) -> SeccompFilter {
        SeccompFilter(tracing: architecture.table.tracedNumbers, architecture: architecture)
    }

    /// Runs the program as the kernel would for one call: true when it returns SECCOMP_RET_TRACE.
    /// A small BPF interpreter for the four opcodes the program uses, so a test checks the very
    /// instructions the kernel gets.
    public func traces(number: Int, arch: UInt32) -> Bool {
        var accumulator: UInt32 = 0
        var pc = 0
        while pc < instructions.count {
            let instruction = instructions[pc]
            switch instruction.code {
            case Self.loadWord:
                accumulator = instruction.k == 0 ? UInt32(truncatingIfNeeded: number) : instruction.k == 4 ? arch : 0
                pc += 1
            case Self.jumpEqual:
                pc += 1 + Int(accumulator == instruction.k ? instruction.jt : instruction.jf)
            case Self.jump:
                pc += 1 + Int(instruction.k)
            case Self.ret:
                return instruction.k == Self.trace
            default:
                return false
            }
        }
        return false
    }
}
