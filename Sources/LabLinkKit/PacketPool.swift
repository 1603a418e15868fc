/// The link's packet memory: a fixed number of fixed-size slots, allocated once at start.
///
/// A packet is read from a TUN device straight into a free slot and stays there until it is
/// written to the other side, so forwarding allocates nothing per packet. The pool is the bound on
/// everything the link holds (queued, delayed): when no slot is free, the packet read is dropped
/// as `queue`, the way a router with full buffers drops.
public final class PacketPool {
    /// Bytes per slot. lab-link sets both TUN devices' MTU to 1500, so a packet fits; a packet that
    /// fills a whole slot was cut short by read(2) and is dropped.
    public static let slotSize = 2048
    public let capacity: Int
    private let memory: UnsafeMutableRawPointer
    private var free: [Int32]
    /// Per slot: its packet's length, direction (0: c→s, 1: s→c) and read time (monotonic ns).
    public private(set) var lengths: [Int32]
    public private(set) var directions: [UInt8]
    public private(set) var arrivals: [UInt64]

    public init(capacity: Int) {
        self.capacity = capacity
        // Pages are only backed once a slot is used: a quiet link costs little memory.
        memory = UnsafeMutableRawPointer.allocate(byteCount: capacity * Self.slotSize, alignment: 64)
        free = (0..<Int32(capacity)).reversed().map { $0 }
        lengths = [Int32](repeating: 0, count: capacity)
        directions = [UInt8](repeating: 0, count: capacity)
        arrivals = [UInt64](repeating: 0, count: capacity)
    }

    deinit { memory.deallocate() }

    public var freeCount: Int { free.count }

    /// A free slot, or nil when all are in use.
    @inline(__always)
    public func take() -> Int32? { free.popLast() }

    /// Gives a slot back.
    @inline(__always)
    public func give(_ slot: Int32) { free.append(slot) }

    @inline(__always)
    public func pointer(_ slot: Int32) -> UnsafeMutableRawPointer { memory + Int(slot) * Self.slotSize }

    /// Records what a slot holds.
    @inline(__always)
    public func fill(_ slot: Int32, length: Int, direction: UInt8, arrival: UInt64) {
        lengths[Int(slot)] = Int32(length)
        directions[Int(slot)] = direction
        arrivals[Int(slot)] = arrival
    }
}
