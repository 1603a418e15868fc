@preconcurrency import Glibc
import SocketCore
import Timeline

/// The link itself: one thread, two TUN descriptors, one timer heap.
///
/// Each turn of the loop waits in ppoll(2) for a packet on either device, a signal, or the next
/// packet's deadline, whichever comes first. A readable device is read until EAGAIN (at most
/// `batch` packets, so the other side is not starved), each packet straight into a slot of the
/// pool. Then the impairments decide (`DropRules`, `LinkDirection`): lost, written to the other
/// device at once, or pushed on the heap until its deadline. Nothing is allocated per packet.
public final class LinkForwarder {
    /// Packets read from one device in one turn before looking at the other.
    public static let batch = 64

    private let devices: [Int32]          // [client side (c→s source), server side (s→c source)]
    private let signals: Int32
    private let rules: DropRules
    private var directions: [LinkDirection]
    public private(set) var stats: [LinkStats] = [LinkStats(), LinkStats()]
    private let pool: PacketPool
    private var heap: TimerHeap
    /// Packets of each direction waiting on the heap: while any wait, a new packet of that
    /// direction waits too, so the order is kept.
    private var pending = [0, 0]
    private let emit: (TimelineEvent) -> Void
    private var scratch = [UInt8](repeating: 0, count: PacketPool.slotSize)

    /// `emit` receives each `link-drop` event as it happens.
    public init(client: Int32, server: Int32, signals: Int32, options: LinkOptions, rules: DropRules,
                slots: Int = 16384, emit: @escaping (TimelineEvent) -> Void) {
        devices = [client, server]
        self.signals = signals
        self.rules = rules
        directions = [LinkDirection(.toServer, options: options), LinkDirection(.toClient, options: options)]
        pool = PacketPool(capacity: slots)
        heap = TimerHeap(capacity: slots)
        self.emit = emit
    }

    /// Forwards until SIGINT, SIGTERM or SIGHUP arrives; returns the signal.
    public func run() throws -> Int32 {
        let fds = UnsafeMutablePointer<pollfd>.allocate(capacity: 3)
        defer { fds.deallocate() }
        fds[0] = pollfd(fd: devices[0], events: Int16(POLLIN), revents: 0)
        fds[1] = pollfd(fd: devices[1], events: Int16(POLLIN), revents: 0)
        fds[2] = pollfd(fd: signals, events: Int16(POLLIN), revents: 0)
        while true {
            writeDue(now: Clock.monotonicNanoseconds())
            let wait = heap.first.map { Int64(bitPattern: $0.deadline &- Clock.monotonicNanoseconds()) }
            _ = try Syscall.ppoll(fds, count: 3, nanoseconds: wait.map { max(0, $0) })
            if fds[2].revents != 0, let signal = try Syscall.readSignal(signals) { return signal }
            for side in 0..<2 where fds[side].revents != 0 {
                if fds[side].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                    throw LabLinkError("the TUN device of \(LinkDirection.Name.allCases[side].rawValue) failed (revents \(fds[side].revents))")
                }
                try readBatch(side)
            }
        }
    }

    /// The queue peaks, from each direction's bottleneck, into the stats.
    public func finalStats() -> [LinkStats] {
        var result = stats
        for side in 0..<2 { result[side].queuePeak = directions[side].bottleneck.peak }
        return result
    }

    /// Reads up to `batch` packets from `side`'s device and decides each.
    private func readBatch(_ side: Int) throws {
        for _ in 0..<Self.batch {
            guard let slot = pool.take() else {
                // Every slot holds a packet: read this one into scratch to drop it as `queue`.
                guard let length = try scratch.withUnsafeMutableBytes({
                    try Syscall.readIfReady(devices[side], into: $0.baseAddress!, count: $0.count)
                }) else { return }
                scratch.withUnsafeBytes { drop(UnsafeRawBufferPointer(rebasing: $0[..<length]), side, .queue) }
                continue
            }
            let buffer = pool.pointer(slot)
            guard let length = try Syscall.readIfReady(devices[side], into: buffer, count: PacketPool.slotSize),
                  length > 0 else {
                pool.give(slot)
                return
            }
            decide(slot: slot, length: length, side: side, now: Clock.monotonicNanoseconds())
        }
    }

    /// The impairments, in order, for the packet in `slot`.
    @inline(__always)
    private func decide(slot: Int32, length: Int, side: Int, now: UInt64) {
        let packet = UnsafeRawBufferPointer(start: pool.pointer(slot), count: length)
        if length >= PacketPool.slotSize {
            drop(packet, side, .queue)   // cut short by read(2): bigger than a slot (an MTU above 1500)
            pool.give(slot)
            return
        }
        if rules.match(packet.baseAddress!, length: length) != nil {
            drop(packet, side, .rule)
            pool.give(slot)
            return
        }
        switch directions[side].admit(bytes: length, at: now, housekeeping: LinkDirection.isMulticast(packet)) {
        case .lost(let reason):
            drop(packet, side, reason == .loss ? .loss : .queue)
            pool.give(slot)
        case .forward(let deadline, let duplicate):
            if deadline <= now && pending[side] == 0 && !duplicate {
                write(slot: slot, length: length, side: side, arrival: now, now: now)
                pool.give(slot)
                return
            }
            pool.fill(slot, length: length, direction: UInt8(side), arrival: now)
            heap.push(slot: slot, deadline: deadline)
            pending[side] += 1
            if duplicate, let copy = pool.take() {
                pool.pointer(copy).copyMemory(from: packet.baseAddress!, byteCount: length)
                pool.fill(copy, length: length, direction: UInt8(side), arrival: now)
                heap.push(slot: copy, deadline: deadline)
                pending[side] += 1
                stats[side].duplicated += 1
            }
        }
    }

    /// Writes every packet whose deadline has come.
    private func writeDue(now: UInt64) {
        while let entry = heap.popDue(at: now) {
            let slot = entry.slot
            let side = Int(pool.directions[Int(slot)])
            write(slot: slot, length: Int(pool.lengths[Int(slot)]), side: side,
                  arrival: pool.arrivals[Int(slot)], now: Clock.monotonicNanoseconds())
            pending[side] -= 1
            pool.give(slot)
        }
    }

    /// One packet to the other side's device: one write(2) is one packet.
    @inline(__always)
    private func write(slot: Int32, length: Int, side: Int, arrival: UInt64, now: UInt64) {
        let written = (try? Syscall.writeIfReady(devices[1 - side], pool.pointer(slot), count: length)) ?? nil
        guard written != nil else {
            stats[side].unwritten += 1
            return
        }
        stats[side].forwarded += 1
        stats[side].bytes += length
        stats[side].addedDelay += now &- arrival
    }

    private func drop(_ packet: UnsafeRawBufferPointer, _ side: Int, _ reason: TimelineEvent.LinkDropReason) {
        stats[side].count(reason)
        emit(PacketSummary(packet).dropEvent(time: Clock.now(), direction: LinkDirection.Name.allCases[side], reason: reason))
    }
}
