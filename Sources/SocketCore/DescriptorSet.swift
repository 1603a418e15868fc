@preconcurrency import Glibc

/// An `fd_set`: the bitmap of descriptors that select(2) watches, one bit per descriptor number.
///
/// C fills it with the FD_ZERO / FD_SET / FD_ISSET macros, which Swift does not import; these
/// methods do the same bit arithmetic. The bitmap has `FD_SETSIZE` (1024) bits, so descriptors
/// 1024 and above cannot be watched at all: `canHold` says whether one fits.
public struct DescriptorSet: CustomStringConvertible {
    /// The bitmap handed to select(2).
    var bits = fd_set()
    /// The highest descriptor inserted (-1: none): select() wants it plus one as `nfds`.
    public private(set) var highest: Int32 = -1

    /// The number of bits in an `fd_set`: FD_SETSIZE.
    public static let capacity = Int32(FD_SETSIZE)

    private static let bitsPerWord = Int32(MemoryLayout<Int>.size * 8)

    public init() {}

    /// True when `descriptor` fits in the bitmap (0 ≤ descriptor < FD_SETSIZE).
    public static func canHold(_ descriptor: Int32) -> Bool {
        descriptor >= 0 && descriptor < capacity
    }

    /// FD_SET: adds `descriptor`, which must fit (`canHold`).
    public mutating func insert(_ descriptor: Int32) {
        precondition(DescriptorSet.canHold(descriptor), "fd \(descriptor) does not fit in an fd_set")
        withUnsafeMutableBytes(of: &bits) { raw in
            let words = raw.bindMemory(to: Int.self)
            words[Int(descriptor / DescriptorSet.bitsPerWord)] |= 1 << Int(descriptor % DescriptorSet.bitsPerWord)
        }
        highest = max(highest, descriptor)
    }

    /// FD_ISSET: whether `descriptor` is in the set (after select(): whether it is ready).
    public func contains(_ descriptor: Int32) -> Bool {
        guard DescriptorSet.canHold(descriptor) else { return false }
        return withUnsafeBytes(of: bits) { raw in
            let word = raw.load(fromByteOffset: Int(descriptor / DescriptorSet.bitsPerWord) * MemoryLayout<Int>.size,
                                as: Int.self)
            return word & (1 << Int(descriptor % DescriptorSet.bitsPerWord)) != 0
        }
    }

    /// The descriptors in the set, as strace shows an fd_set: `[3 5]`.
    public var description: String {
        guard highest >= 0 else { return "[]" }
        return "[" + (0...highest).filter { contains($0) }.map(String.init).joined(separator: " ") + "]"
    }
}
