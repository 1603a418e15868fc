@preconcurrency import Glibc
import SocketCore
import CPcap

/// A libpcap capture handle: live on an interface, or reading a pcap/pcapng file.
///
/// Live captures are set up the long way (`pcap_create` ... `pcap_activate`) because only that
/// path can turn on immediate mode: without it the kernel batches packets and a loopback
/// handshake shows up about a second late.
///
/// Used by one thread. The thread that waits for Ctrl-C gets the small `breaker` instead.
public final class Capture {
    /// The `pcap_t *`.
    private let handle: OpaquePointer
    /// Stops the loop from another thread (the signal watcher).
    public let breaker: CaptureBreaker
    public let isLive: Bool
    /// The link-layer header type (DLT_*) of every frame.
    public let linkType: Int32
    /// The snapshot length: the most bytes kept per packet.
    public let snapshotLength: Int
    /// Files with nanosecond timestamps print 9 decimals.
    public let isNanosecond: Bool
    /// For files, the BPF program is run here in user space, so packet numbers stay the file's
    /// frame numbers (what Wireshark shows); nil when no filter is needed.
    private var offlineFilter: bpf_program?
    /// The same filter behind a VLAN tag (`vlan and ...`), tried on tagged frames only.
    private var taggedFilter: bpf_program?
    private var dumper: OpaquePointer?
    private var dumpPath = ""

    private init(handle: OpaquePointer, isLive: Bool, isNanosecond: Bool) {
        self.handle = handle
        self.isLive = isLive
        self.isNanosecond = isNanosecond
        breaker = CaptureBreaker(handle)
        linkType = pcap_datalink(handle)
        snapshotLength = Int(pcap_snapshot(handle))
    }

    deinit {
        breaker.invalidate()
        if var program = offlineFilter { pcap_freecode(&program) }
        if var program = taggedFilter { pcap_freecode(&program) }
        if let dumper { pcap_dump_close(dumper) }
        pcap_close(handle)
    }

    /// Opens `interface` for live capture: snaplen, kernel buffer size, immediate mode, activate.
    public static func live(interface: String, snapshotLength: Int, bufferKiB: Int?) throws(CaptureError) -> Capture {
        var errorText = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(interface, &errorText) else {
            throw CaptureError("cannot capture on \(interface): \(text(errorText))")
        }
        pcap_set_snaplen(handle, Int32(clamping: snapshotLength))
        pcap_set_promisc(handle, 0)
        pcap_set_immediate_mode(handle, 1)   // deliver each packet at once, not in batches
        pcap_set_timeout(handle, 100)
        if let bufferKiB { pcap_set_buffer_size(handle, Int32(clamping: bufferKiB * 1024)) }
        let status = pcap_activate(handle)
        if status < 0 {
            let detail = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            switch status {
            case PCAP_ERROR_PERM_DENIED:
                throw CaptureError("capturing on \(interface) needs root or CAP_NET_RAW "
                    + "(sudo setcap cap_net_raw,cap_net_admin=eip \(executablePath())); "
                    + "reading a file needs neither: handshake-watch -r captures/echo-ipv4.pcap")
            case PCAP_ERROR_NO_SUCH_DEVICE:
                throw CaptureError("no such interface: \(interface) (see `ip link`; `lo` carries this machine's own traffic)")
            default:
                throw CaptureError("cannot capture on \(interface): \(detail)")
            }
        }
        // Non-blocking: next() returns .timeout as soon as the ring is empty, so the caller can
        // flush its output once per burst instead of once per line, then wait in poll().
        pcap_setnonblock(handle, 1, &errorText)
        return Capture(handle: handle, isLive: true, isNanosecond: false)
    }

    /// Waits (poll(2) on libpcap's descriptor, and `other` when given) until packets are ready,
    /// `other` is readable, or `milliseconds` pass.
    @discardableResult
    public func waitForPackets(milliseconds: Int32, alsoOn other: Int32? = nil) -> Bool {
        let descriptor = pcap_get_selectable_fd(handle)
        guard descriptor >= 0 else { return false }
        var entries = [pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)]
        if let other { entries.append(pollfd(fd: other, events: Int16(POLLIN), revents: 0)) }
        _ = try? Syscall.poll(&entries, timeout: milliseconds, traced: false)
        return entries[0].revents & Int16(POLLIN) != 0
    }

    /// Opens a pcap or pcapng file, keeping nanosecond timestamps when the file has them.
    public static func offline(path: String) throws(CaptureError) -> Capture {
        var errorText = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        let nanosecond = CaptureFileInfo.hasNanosecondTimestamps(path: path)
        let precision = nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO
        guard let handle = pcap_open_offline_with_tstamp_precision(path, UInt32(precision), &errorText) else {
            throw CaptureError("cannot read \(path): \(withoutPath(text(errorText), path))")
        }
        return Capture(handle: handle, isLive: false, isNanosecond: nanosecond)
    }

    /// The link type as tcpdump names it: `EN10MB (Ethernet)`.
    public var linkTypeDescription: String {
        let name = pcap_datalink_val_to_name(linkType).map { String(cString: $0) } ?? "\(linkType)"
        let description = pcap_datalink_val_to_description(linkType).map { String(cString: $0) } ?? "unknown"
        return "\(name) (\(description))"
    }

    /// Compiles a BPF filter (`port 5000 and host ::1`) and attaches it. Live: in the kernel,
    /// before any packet is copied to us. File: kept and run per packet by `next()`.
    /// `userExpression` is what the user typed, for the error message. `alsoTagged` (Ethernet
    /// files): frames behind a VLAN tag are matched by a second program, `vlan and (expression)`.
    /// Two programs, not one `A or (vlan and A)`: the optimiser's time grows faster than the
    /// expression, and a 1,000-term filter took 5 times as long to compile as doubled.
    public func setFilter(_ expression: String, userExpression: String? = nil, alsoTagged: Bool = false) throws(CaptureError) {
        var program = try compile(expression, userExpression: userExpression)
        if alsoTagged && !isLive {
            taggedFilter = try compile("vlan and (\(expression))", userExpression: userExpression)
        }
        if isLive {
            defer { pcap_freecode(&program) }
            guard pcap_setfilter(handle, &program) == 0 else {
                throw CaptureError("cannot attach filter '\(expression)': \(String(cString: pcap_geterr(handle)))")
            }
        } else {
            offlineFilter = program
        }
    }

    private func compile(_ expression: String, userExpression: String?) throws(CaptureError) -> bpf_program {
        var program = bpf_program()
        guard pcap_compile(handle, &program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            throw CaptureError("bad filter '\(userExpression ?? expression)': \(String(cString: pcap_geterr(handle)))")
        }
        return program
    }

    /// Runs the file's filter(s) over one record: the plain program, then for a VLAN-tagged
    /// Ethernet frame (type 0x8100, 0x88a8 or 0x9100 at byte 12) the tagged one.
    @inline(__always)
    private func passes(_ header: UnsafeMutablePointer<pcap_pkthdr>, _ data: UnsafePointer<UInt8>) -> Bool {
        guard var program = offlineFilter else { return true }
        if pcap_offline_filter(&program, header, data) != 0 { return true }
        guard var tagged = taggedFilter, header.pointee.caplen >= 14 else { return false }
        let type = UInt16(data[12]) << 8 | UInt16(data[13])
        guard type == 0x8100 || type == 0x88A8 || type == 0x9100 else { return false }
        return pcap_offline_filter(&tagged, header, data) != 0
    }

    /// Also writes every packet that passes the filter to a pcap file (`-w`).
    public func dump(to path: String) throws(CaptureError) {
        guard let dumper = pcap_dump_open(handle, path) else {
            throw CaptureError("cannot write \(path): \(Self.withoutPath(String(cString: pcap_geterr(handle)), path))")
        }
        self.dumper = dumper
        dumpPath = path
    }

    /// False when the caller picks which packets `-w` keeps (`-- COMMAND` without a filter: the
    /// traced programs' connections only), calling `dump(_:_:)` for each.
    public var dumpsEveryPacket = true

    /// Writes one packet to the `-w` file (when `dumpsEveryPacket` is off).
    public func dump(_ header: UnsafePointer<pcap_pkthdr>, _ bytes: UnsafeRawBufferPointer) {
        guard let dumper, let base = bytes.baseAddress else { return }
        pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header,
                  base.assumingMemoryBound(to: UInt8.self))
    }

    /// What `next()` found.
    public enum Next {
        /// A packet: its header (timestamps, lengths) and the captured bytes, valid until the next call.
        case packet(UnsafePointer<pcap_pkthdr>, UnsafeRawBufferPointer)
        /// Live: nothing ready right now (flush the output, then `waitForPackets`).
        case timeout
        /// End of the file, or `breakLoop()` was called.
        case end
        case error(String)
    }

    /// Reads the next packet (pcap_next_ex). For files, also counts and filters in user space.
    @inline(__always)
    public func next() -> Next {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while true {
            let status = pcap_next_ex(handle, &header, &data)
            switch status {
            case 1:
                guard let header, let data else { return .timeout }
                if !passes(header, data) {
                    filteredOut += 1
                    continue
                }
                if let dumper, dumpsEveryPacket {
                    pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), header, data)
                }
                return .packet(UnsafePointer(header),
                               UnsafeRawBufferPointer(start: data, count: Int(header.pointee.caplen)))
            case 0:
                return .timeout
            case PCAP_ERROR_BREAK:
                return .end
            default:
                return .error(String(cString: pcap_geterr(handle)))
            }
        }
    }

    /// Packets of a file that the filter rejected (they still count for frame numbers).
    public private(set) var filteredOut = 0

    /// Makes the next `next()` return `.end` (from another thread: `breaker.breakLoop()`).
    public func breakLoop() {
        pcap_breakloop(handle)
    }

    /// The kernel's counts for a live capture: (received by filter, dropped for lack of buffer).
    public func statistics() -> (received: Int, dropped: Int)? {
        var stats = pcap_stat()
        guard isLive, pcap_stats(handle, &stats) == 0 else { return nil }
        return (Int(stats.ps_recv), Int(stats.ps_drop))
    }

    /// Flushes the `-w` file so it is complete even if we are killed later. pcap_dump(3) reports
    /// no errors, so this is where a full disk shows: the error names the file and errno.
    public func flushDump() -> CaptureError? {
        guard let dumper else { return nil }
        if pcap_dump_flush(dumper) != 0 || ferror(pcap_dump_file(dumper)) != 0 {
            return CaptureError("cannot write \(dumpPath): \(String(cString: strerror(errno)))")
        }
        return nil
    }

    /// libpcap's message without the `PATH: ` it starts with when a file cannot be opened, since
    /// ours names the path already: `cannot read x.pcap: Permission denied`.
    private static func withoutPath(_ message: String, _ path: String) -> String {
        message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
    }

    /// A NUL-terminated C buffer as a String.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func executablePath() -> String {
        Syscall.readLink("/proc/self/exe").map { String(decoding: $0, as: UTF8.self) } ?? "handshake-watch"
    }
}
