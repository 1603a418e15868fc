/// What a system-call stop's registers say: which call, its six arguments, and at the exit its
/// result. Decoded from the raw `user_regs_struct` bytes that PTRACE_GETREGSET (NT_PRSTATUS)
/// returns, whose layout is the architecture's.
///
/// - x86_64: the number in `orig_rax` (the kernel overwrites `rax` with the result), arguments in
///   rdi, rsi, rdx, r10, r8, r9, the result in `rax`. At the entry stop `rax` holds -ENOSYS.
/// - aarch64: the number in x8, arguments in x0-x5, the result in x0 (so the first argument is
///   gone at the exit: the tracer keeps the entry's). At a stop x7 tells entry (0) from exit (1).
public struct SyscallRegisters: Sendable, Equatable {
    public var number: Int
    public var arguments: [UInt64]
    /// The return register: the result at the exit stop (negative: -errno).
    public var returnValue: Int64
    /// True at a syscall-entry stop, false at an exit stop, as far as the registers tell.
    public var looksLikeEntry: Bool

    public init(number: Int, arguments: [UInt64], returnValue: Int64, looksLikeEntry: Bool) {
        self.number = number
        self.arguments = arguments
        self.returnValue = returnValue
        self.looksLikeEntry = looksLikeEntry
    }

    /// ENOSYS, which x86_64 puts in rax before the call runs.
    static let enosys: Int64 = 38

    /// Decodes `bytes` (a `user_regs_struct`), or nil when too short for `architecture`.
    public init?(_ bytes: UnsafeRawBufferPointer, architecture: Architecture) {
        guard bytes.count >= architecture.registerBytes else { return nil }
        func word(_ index: Int) -> UInt64 { bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) }
        switch architecture {
        case .x86_64:
            // r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip ...
            let rax = Int64(bitPattern: word(10))
            number = Int(Int64(bitPattern: word(15)))
            arguments = [word(14), word(13), word(12), word(7), word(9), word(8)]
            returnValue = rax
            looksLikeEntry = rax == -Self.enosys
        case .aarch64:
            // x0 ... x30, sp, pc, pstate
            number = Int(word(8))
            arguments = (0..<6).map(word)
            returnValue = Int64(bitPattern: word(0))
            looksLikeEntry = word(7) == 0
        }
    }

    /// The raw bytes of a `user_regs_struct` holding these values (for tests, and the reverse of `init`).
    public static func bytes(number: Int, arguments: [UInt64], returnValue: Int64, entry: Bool,
                             architecture: Architecture) -> [UInt8] {
        var words = [UInt64](repeating: 0, count: architecture.registerBytes / 8)
        let args = arguments + [UInt64](repeating: 0, count: max(0, 6 - arguments.count))
        switch architecture {
        case .x86_64:
            words[15] = UInt64(bitPattern: Int64(number))
            (words[14], words[13], words[12], words[7], words[9], words[8]) = (args[0], args[1], args[2], args[3], args[4], args[5])
            words[10] = UInt64(bitPattern: entry ? -enosys : returnValue)
        case .aarch64:
            for index in 0..<6 { words[index] = args[index] }
            if !entry { words[0] = UInt64(bitPattern: returnValue) }
            words[7] = entry ? 0 : 1
            words[8] = UInt64(number)
        }
        return words.withUnsafeBytes { Array($0) }
    }
}
