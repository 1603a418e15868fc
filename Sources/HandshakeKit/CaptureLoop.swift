import SocketCore

/// handshake-watch's main loop, as tcpdump's: read a packet, decode it, follow its connection,
/// print the step; at the end, the summaries still pending and the counts.
public struct CaptureLoop {
    public var capture: Capture
    public var linkLayer: LinkLayer
    public var tracker: ConnectionTracker
    /// `-c`: stop after this many TCP packets.
    public var count: Int?
    public var replay: Replay
    public var state: WatchState
    /// The capture file's recorded events (its sidecar), shown among its packets; nil for none.
    public var events: RecordedEvents?
    /// Keeps only the packets it accepts (`-- COMMAND` without a filter: the traced programs'
    /// connections); the others are counted in `CaptureStats.otherPrograms`.
    public var keeps: ((Packet) -> Bool)?
    /// After a wake-up for new packets, how long to let more gather before reading them (µs;
    /// 0: read at once). A traced watch shows a line only once it is 50 ms old, so waking for
    /// every packet would only take the CPU from the program it watches: a round trip is four
    /// packets, four context switches, on the cores the program and its peer need.
    public var gatherMicroseconds = 0

    public init(capture: Capture, linkLayer: LinkLayer, tracker: ConnectionTracker, count: Int?,
                replay: Replay, state: WatchState, events: RecordedEvents? = nil) {
        self.capture = capture
        self.linkLayer = linkLayer
        self.tracker = tracker
        self.count = count
        self.replay = replay
        self.state = state
        self.events = events
    }

    /// A pcap record's `ts_sec` is an unsigned 32-bit number (seconds until 2106), but libpcap
    /// hands it over through a signed 32-bit field: 0xFFFFFFFE arrives as -2. Read it back as
    /// unsigned, as tshark does; pcapng's 64-bit stamps are never negative here.
    @inline(__always)
    static func seconds(_ raw: Int) -> Int {
        raw < 0 && raw >= Int(Int32.min) ? Int(UInt32(truncatingIfNeeded: raw)) : raw
    }

    /// The clock's time, for a capture that ended before any packet came.
    static func now() -> Timestamp {
        let time = Clock.now()
        return Timestamp(seconds: Int(time.seconds), fraction: Int(time.microseconds - time.seconds * 1_000_000), isNanosecond: false)
    }

    /// Reads, decodes, tracks and prints until the file ends, -c is reached, or a signal arrives.
    /// Generic over the renderer so each format's loop is compiled on its own, calls inlined.
    public func run<R: Renderer>(_ renderer: R) -> Result<CaptureStats, CaptureError> {
        if keeps != nil { capture.dumpsEveryPacket = false }
        var handled = 0, skipped = 0, read = 0, others = 0
        var lastTime: Timestamp?
        var failure: CaptureError?
        var skips = SkipReport()
        /// When the look at the ring that is under way began, if no packet came since.
        var lookedAt: EpochTime?
        // A failed write ends the run too: EPIPE (`| head -1`) as tcpdump ends, quietly, and any
        // other error (a full disk) reported by the caller.
        reading: while !state.stopped.load(ordering: .relaxed) && renderer.output.writeError == nil {
            switch capture.next() {
            case .packet(let header, let bytes):
                lookedAt = nil
                read += 1
                let number = read + capture.filteredOut   // the frame number in a file
                let time = Timestamp(seconds: Self.seconds(header.pointee.ts.tv_sec), fraction: Int(header.pointee.ts.tv_usec),
                                     isNanosecond: capture.isNanosecond)
                lastTime = time
                do {
                    guard let packet = try PacketDecoder.decode(bytes, linkLayer: linkLayer, wireLength: Int(header.pointee.len),
                                                                number: number, time: time) else { continue reading }
                    skips.decoded()
                    if let keeps {
                        guard keeps(packet) else {
                            others += 1
                            continue reading
                        }
                        capture.dump(header, bytes)   // -w keeps what is shown, not other programs' packets
                    }
                    if handled > 0 && !replay.wait() { break reading }
                    var tracked = tracker.track(packet)
                    if let events {
                        events.take(through: EpochTime(packet.time)) { renderer.event($0) }
                        events.annotate(&tracked)
                    }
                    renderer.packet(tracked)
                    tracker.drainEnded { renderer.connectionEnded($0) }
                } catch {
                    skipped += 1
                    renderer.output.flush()
                    skips.skipped(number, reason: "\(error)")
                }
                handled += 1
                if capture.isLive { state.packets.add(1, ordering: .relaxed) }
                if let count, handled >= count { break reading }
            case .timeout:
                // The ring is empty: everything printed so far leaves now, then we wait. A packet
                // stamped while we looked may have come in just after: only a look that began
                // after the last packet read, at `lookedAt`, tells the renderer it has caught up.
                guard let since = lookedAt else {
                    lookedAt = Clock.now()
                    continue reading
                }
                renderer.idle(caughtUp: since)
                renderer.output.flush()
                if capture.waitForPackets(milliseconds: 100, alsoOn: renderer.waitDescriptor) && gatherMicroseconds > 0 {
                    Syscall.sleep(seconds: Double(gatherMicroseconds) / 1e6)
                }
                lookedAt = Clock.now()
                continue reading
            case .end:
                events?.takeRest { renderer.event($0) }
                break reading
            case .error(let message):
                if capture.isLive {
                    failure = CaptureError("capture failed: \(message)")
                } else {
                    // A file cut short (a crashed capture), a record libpcap refuses: what was read
                    // is shown, then the error, and the exit status is 1, as tcpdump's.
                    failure = CaptureError(message)
                }
                break reading
            }
        }
        // The end: summaries of connections still open, then the counts.
        renderer.output.flush()
        skips.finish()
        tracker.finishAll { renderer.connectionEnded($0) }
        if let dumpFailure = capture.flushDump(), failure == nil { failure = dumpFailure }
        var stats = CaptureStats(received: read, dropped: 0, skipped: skipped, decoded: handled, isLive: capture.isLive,
                                 endTime: lastTime ?? Self.now())
        stats.otherPrograms = others
        if let kernel = capture.statistics() {
            stats.received = kernel.received
            stats.dropped = kernel.dropped
        }
        renderer.finish(stats)
        if let failure { return .failure(failure) }
        return .success(stats)
    }
}
