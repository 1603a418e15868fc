import SocketCore
import Synchronization

/// Reads a stopped tracee's memory: a `sockaddr` that connect() was given, the bytes write() sends.
///
/// process_vm_readv(2) copies a whole range in one call; where it is refused (a kernel without
/// it, or a page it will not touch) the tracer falls back to PTRACE_PEEKDATA, one word per call.
/// Every read is bounded by the caller's `count`.
public struct TraceeMemory {
    public let tid: Int32
    /// False once process_vm_readv failed with ENOSYS or EPERM: PEEKDATA from then on.
    static let vmReadvWorks = Atomic<Bool>(true)

    public init(tid: Int32) { self.tid = tid }

    /// Up to `count` bytes at `address`; fewer when part of the range is not mapped, nil when none is.
    public func read(_ address: UInt64, count: Int) -> [UInt8]? {
        guard address != 0, count > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        if Self.vmReadvWorks.load(ordering: .relaxed) {
            do {
                let copied = try bytes.withUnsafeMutableBytes { try Syscall.readProcessMemory(tid, at: UInt(address), into: $0) }
                if copied > 0 {
                    if copied < count { bytes.removeLast(count - copied) }   // no second copy
                    return bytes
                }
            } catch let error as SocketError where error.errno == Errno(rawValue: 38) || error.errno == Errno(rawValue: 1) {
                Self.vmReadvWorks.store(false, ordering: .relaxed)   // ENOSYS, EPERM: the word-by-word way
            } catch {
                // EFAULT on part of the range: the word-by-word way finds what is readable.
            }
        }
        return peek(address, count: count)
    }

    /// PTRACE_PEEKDATA, word by word, up to the first word that cannot be read.
    func peek(_ address: UInt64, count: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        var at = address
        while bytes.count < count {
            guard let word = try? Syscall.ptracePeek(tid, at: UInt(at)) else { break }
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
            at += 8
        }
        return bytes.isEmpty ? nil : Array(bytes.prefix(count))
    }

    /// A NUL-terminated string (a path, an argv entry), at most `limit` bytes.
    public func string(_ address: UInt64, limit: Int = 256) -> String? {
        guard let bytes = read(address, count: limit) else { return nil }
        let text = bytes.prefix { $0 != 0 }
        return String(decoding: text, as: UTF8.self)
    }

    /// A little-endian 32-bit integer (an `int` option value, a `socklen_t`).
    public func int32(_ address: UInt64) -> Int32? {
        guard let bytes = read(address, count: 4), bytes.count == 4 else { return nil }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
    }

    /// A little-endian 64-bit word (a pointer in an array).
    public func word(_ address: UInt64) -> UInt64? {
        guard let bytes = read(address, count: 8), bytes.count == 8 else { return nil }
        return bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }
}
