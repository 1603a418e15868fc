/// The two instruction sets the tracer knows: how each numbers its system calls, passes their
/// arguments and lays out the registers PTRACE_GETREGSET returns.
///
/// x86_64 runs here and is tested live; aarch64's tables and register layout are tested offline.
public enum Architecture: String, Sendable, CaseIterable {
    case x86_64
    case aarch64

    /// The architecture this program was built for (a tracer traces its own kind).
    public static var current: Architecture {
        #if arch(x86_64)
        return .x86_64
        #elseif arch(arm64)
        return .aarch64
        #else
        #error("ProcessTrace knows x86_64 and aarch64 only")
        #endif
    }

    /// `AUDIT_ARCH_*`: the value seccomp's `seccomp_data.arch` holds for a call made in this
    /// instruction set. A filter checks it first: the same number means another call elsewhere.
    public var auditArch: UInt32 {
        switch self {
        case .x86_64: 0xC000_003E    // AUDIT_ARCH_X86_64: EM_X86_64 (62) | 64-bit | little-endian
        case .aarch64: 0xC000_00B7   // AUDIT_ARCH_AARCH64: EM_AARCH64 (183) | 64-bit | little-endian
        }
    }

    /// The size of `struct user_regs_struct` (NT_PRSTATUS): 27 registers on x86_64; x0-x30, sp,
    /// pc and pstate on aarch64.
    public var registerBytes: Int {
        switch self {
        case .x86_64: 27 * 8
        case .aarch64: 34 * 8
        }
    }

    /// The system-call numbers of this instruction set.
    public var table: SyscallTable {
        switch self {
        case .x86_64: .x86_64
        case .aarch64: .aarch64
        }
    }
}
