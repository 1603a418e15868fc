@preconcurrency import Glibc
import ArgumentParser
import HandshakeKit
import KernelKit
import LiveView
import SocketCore
import Timeline

/// handshake-watch: the three-way handshake and the teardown, live from libpcap or from a file.
///
/// Reads like tcpdump's main loop: open the capture, attach the filter, say "listening on ...",
/// then for each packet decode it, follow its connection, print the step.
@main
struct HandshakeWatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake-watch",
        abstract: "Watch TCP connections open (SYN, SYN-ACK, ACK) and close (FIN or RST), live or from a capture file.",
        discussion: """
            Live capture needs root or CAP_NET_RAW; reading a file (-r captures/echo-ipv4.pcap) does not.
            A file X.pcap read with -r brings the events recorded beside it in X.events.jsonl (the programs' system calls, stamped as strace -tt -T, and their output), shown among the packets in time order.
            FILTER is a BPF expression as for tcpdump ('port 5000', 'host ::1'); 'tcp' is always implied.
            Environment: SOCKETTUTOR_EVENTS_FILE=PATH appends every event, as the JSON lines of --format json, to PATH whatever the format shown (the lesson runner's --serve collects its watchers' events this way).
            """)

    @Option(name: [.customShort("i"), .customLong("interface")],
            help: ArgumentHelp("Interface to capture on (pcap_create(3)); lo, the default, carries this machine's own traffic.", valueName: "iface"))
    var interface: String?

    @Option(name: [.customShort("r"), .customLong("read")],
            help: ArgumentHelp("Read packets from a pcap or pcapng file (pcap_open_offline(3)) instead of capturing.", valueName: "file"))
    var readFile: String?

    @Option(name: [.customShort("w"), .customLong("write")],
            help: ArgumentHelp("Also write the packets to a pcap file (pcap_dump_open(3)); opens in Wireshark.", valueName: "file"))
    var writeFile: String?

    @Option(name: [.customShort("c"), .customLong("count")], parsing: .unconditional, help: ArgumentHelp("Stop after this many TCP packets.", valueName: "count"))
    var count: Int?

    @Option(name: [.customShort("s"), .customLong("snaplen")], parsing: .unconditional,
            help: ArgumentHelp("Snapshot length: bytes kept per packet (pcap_set_snaplen(3)); headers fit in 256.", valueName: "bytes"))
    var snapshotLength = 256

    @Option(name: [.customShort("B"), .customLong("buffer-size")], parsing: .unconditional,
            help: ArgumentHelp("Kernel capture buffer in KiB (pcap_set_buffer_size(3)). libpcap's 2 MiB default dropped packets of a 2,000-connection burst on lo; 16 MiB did not.", valueName: "KiB"))
    var bufferKiB = 16_384

    @Option(help: ArgumentHelp("Output: text (a line per packet), ladder (a sequence diagram), json (JSON Lines), "
                               + "svg (the ladder as one SVG file, written at the end).", valueName: "format"))
    var format: OutputFormat = .text

    @Flag(help: "Print times relative to the first line (a packet, or a recorded event) instead of the time of day.")
    var relative = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Replay a file slowly: wait this many seconds before each packet (with -r).", valueName: "seconds"))
    var pace: Double?

    @Flag(help: "Replay a file one packet per Enter key (with -r).")
    var step = false

    @Flag(name: .customLong("no-events"),
          help: "With -r X.pcap, leave out the events recorded beside it in X.events.jsonl (the programs' system calls and output, shown among the packets by default).")
    var noEvents = false

    @Flag(name: .customLong("no-color"), help: "No ANSI colours: --color never, whatever --color says.")
    var noColor = false

    @Option(name: .customLong("color"),
            help: ArgumentHelp("ANSI colours: always, never, or auto (on when stdout is a terminal and NO_COLOR is unset).", valueName: "when"))
    var color: ColorMode = .auto

    @Flag(help: "Short lines for a projector (80 columns for IPv4): each connection's addresses once, then per packet its direction (c→s: client to server), flags, seq/ack, len, win and the step in a few words, no TCP options.")
    var brief = false

    @Option(name: .customLong("max-connections"), parsing: .unconditional,
            help: ArgumentHelp("Connections tracked at once; past it the idlest are evicted (bounded memory).", valueName: "n"))
    var maxConnections = 65_536

    @Flag(help: ArgumentHelp("Also show the kernel's view: TCP states and resets (tracepoints in a tracefs instance of our own; root), accept queues, TIME_WAIT and SYN_RECV sockets (sock_diag) and the TcpExt counters ListenOverflows and ListenDrops (/proc/net/netstat; they count for the whole network namespace, not one socket). A kernel event passes FILTER when a packet of its connection, either way, would: 'src port 5000' keeps both ends' states."))
    var kernel = false

    @Option(help: ArgumentHelp("Also serve the live view (a ladder diagram for a projector) on http://ADDR:PORT/ "
                               + "(127.0.0.1 unless ADDR is given; port 0 picks one) until SIGINT or SIGTERM.", valueName: "[addr:]port"))
    var serve: String?

    @Argument(help: "BPF filter expression, as for tcpdump (pcap_compile(3)); 'tcp' is implied.")
    var filter: [String] = []

    /// Like tcpdump, a usage mistake is one line on stderr and exit status 1 (argument-parser
    /// alone would add the whole usage and exit 64); --help still prints the help and exits 0.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if error is ExitCode || exitCode(for: error) == .success { exit(withError: error) }
            Console.error("handshake-watch: \(message(for: error)) (see --help)")
            Glibc.exit(1)
        }
    }

    // The numeric options parse `.unconditional`ly so that `-c -1` reaches validate() and is
    // named as a bad count, instead of "-1" being taken for an unknown flag.
    func validate() throws {
        if readFile != nil && interface != nil { throw ValidationError("-i captures live and -r reads a file: give one of them") }
        if interface == "" || readFile == "" { throw ValidationError("-i and -r need a name: an interface (see `ip link`), a file") }
        if let writeFile, writeFile == "-" {
            throw ValidationError("-w - would mix the pcap file with the text on stdout: give a file name")
        }
        if readFile == "-", let writeFile, CaptureFileInfo.sameFile(descriptor: STDIN_FILENO, writeFile) {
            throw ValidationError("-w \(writeFile) would overwrite the file -r - is reading (stdin)")
        }
        if let readFile, let writeFile, CaptureFileInfo.sameFile(readFile, writeFile) {
            throw ValidationError("-w \(writeFile) would overwrite the file -r is reading")
        }
        if pace != nil && step { throw ValidationError("--pace and --step exclude each other") }
        if step && readFile == "-" { throw ValidationError("--step reads Enter from stdin, so -r - cannot read the capture from it") }
        if (pace != nil || step) && readFile == nil { throw ValidationError("--pace and --step replay a file: add -r FILE") }
        if let pace, !(pace >= 0 && pace <= 3600) { throw ValidationError("--pace must be between 0 and 3600 seconds") }
        if let count, count < 1 { throw ValidationError("-c must be at least 1") }
        if snapshotLength < 64 || snapshotLength > 262_144 { throw ValidationError("-s must be between 64 and 262144") }
        if bufferKiB < 1 || bufferKiB > 1 << 20 { throw ValidationError("-B must be between 1 and 1048576 KiB") }
        if kernel && format == .svg {
            throw ValidationError("--kernel adds lines that --format svg does not draw: use text, ladder or json")
        }
        if kernel && readFile != nil {
            throw ValidationError("--kernel watches this machine's kernel now: capture live (-i), not -r")
        }
        if brief && format != .text { throw ValidationError("--brief shortens the text lines: it goes with --format text only") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if let serve, ServeAddress(serve) == nil { throw ValidationError("--serve takes [ADDR:]PORT (8080, 0, 0.0.0.0:8080, [::1]:8080), got '\(serve)'") }
    }

    func run() throws {
        Console.lineBuffered()
        // Before any thread starts: the watcher thread sigwaits for every signal that would end
        // the process, so none can leave the tracefs instance behind (only SIGKILL can). SIGPIPE
        // blocked makes a write to a closed pipe fail with EPIPE instead.
        Signals.block(Signals.endingByDefault)
        let status: Int32
        do {
            status = try watch()
        } catch {
            Console.error("handshake-watch: \(error)")
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The exit status after `signal` stopped the run, once everything is cleaned up: 0 for
    /// those tcpdump ends on cleanly (SIGINT, SIGTERM, SIGHUP, SIGPIPE), 128 + N for the others,
    /// as a shell reports a process that signal killed (without the core dump SIGQUIT would write).
    static func exitStatus(after signal: Int32) -> Int32 {
        [0, SIGINT, SIGTERM, SIGHUP, SIGPIPE].contains(signal) ? 0 : 128 + signal
    }

    private func watch() throws(CaptureError) -> Int32 {
        let interface = self.interface ?? "lo"
        // 0. A thread waits for Ctrl-C / SIGTERM and stops the loop; it also gives the idle hint.
        //    It starts first: opening a FIFO (`-r fifo`) blocks until a writer comes.
        let state = WatchState()
        let hint = readFile == nil && interface != "lo" && interface != "any"
        let isFile = readFile != nil
        let watchedInterface = interface
        let watcher: @Sendable () -> Void = {
            var hinted = !hint
            var waited = 0.0
            while true {
                if let signal = Signals.wait(for: Signals.endingByDefault, timeout: 0.5) {
                    state.endingSignal.store(signal, ordering: .relaxed)
                    state.stopped.store(true, ordering: .relaxed)
                    state.breaker.withLock { $0?.breakLoop() }
                    // A file read blocks in read(2) while a FIFO's writer stalls, where
                    // pcap_breakloop cannot reach: like tcpdump on a file, leave at once then.
                    if isFile { Self.exitUnlessFinished(state) } else { Self.leaveIfStuck(state, after: signal) }
                    return
                }
                if state.finished.load(ordering: .relaxed) { return }
                waited += 0.5
                if !hinted, state.packets.load(ordering: .relaxed) == 0, waited >= 5 {
                    hinted = true
                    Console.error("handshake-watch: nothing seen on \(watchedInterface) for 5 s. Traffic between "
                        + "programs on this machine (127.0.0.1, ::1, even its own LAN address) travels over lo: try -i lo")
                }
            }
        }
        do {
            try Threads.detach(watcher)
        } catch {
            // Without that thread Ctrl-C (blocked above) could not stop us: give up now.
            throw CaptureError("cannot start the signal thread: \(error)")
        }

        // 1. Open the capture.
        let capture = if let readFile {
            try Capture.offline(path: readFile)
        } else {
            try Capture.live(interface: interface, snapshotLength: snapshotLength, bufferKiB: bufferKiB)
        }
        state.breaker.withLock { $0 = capture.breaker }
        guard let linkLayer = LinkLayer(dlt: capture.linkType) else {
            throw CaptureError("cannot decode link type \(capture.linkTypeDescription): handshake-watch reads "
                + "Ethernet, Linux cooked (SLL, SLL2), BSD loopback (NULL, LOOP) and raw IP")
        }
        // 2. Attach the filter: `tcp`, and the user's expression.
        if let expression = bpfExpression(live: capture.isLive) {
            try capture.setFilter(expression, userExpression: filter.joined(separator: " "),
                                  alsoTagged: linkLayer == .ethernet)
        }
        if let writeFile { try capture.dump(to: writeFile) }
        let kernelWatch = kernel ? try startKernelWatch() : nil
        defer { kernelWatch?.remove() }   // every path out of here, errors included
        if let instance = kernelWatch?.instance { state.cleanup.withLock { $0 = { instance.remove() } } }

        // 3. Ready: say so on stderr, exactly as tcpdump does.
        if capture.isLive {
            Console.error("listening on \(interface), link-type \(capture.linkTypeDescription), snapshot length \(capture.snapshotLength) bytes")
        } else {
            Console.error("reading from file \(readFile ?? ""), link-type \(capture.linkTypeDescription), snapshot length \(capture.snapshotLength)")
        }
        let live = try serve.map { text throws(CaptureError) in try LiveServing.start(text) }


        // 5. The loop, specialised for the chosen renderer.
        // Live captures flush whenever the ring is empty (CaptureLoop, .timeout): each burst appears
        // at once, without a write(2) per line. A terminal and slow replays flush every line.
        let liveOutput = pace != nil || step || Syscall.isTerminal(STDOUT_FILENO) || readFile.map(CaptureFileInfo.isStream) == true
        let output = OutputBuffer(file: stdout, flushesEachLine: liveOutput)
        let palette = Palette(enabled: Palette.wanted(noColor ? .never : color))
        let timeFormat: TimeFormat = relative ? .relative : .timeOfDay
        let loop = CaptureLoop(capture: capture, linkLayer: linkLayer, tracker: ConnectionTracker(limit: maxConnections),
                               count: count, replay: Replay(pace: pace, step: step, state: state), state: state,
                               events: try recordedEvents())
        let result = switch format {
        case .text: run(loop, TextRenderer(output: output, palette: palette, timeFormat: timeFormat, brief: brief), kernelWatch, live)
        case .ladder: run(loop, LadderRenderer(output: output, palette: palette), kernelWatch, live)
        case .json: run(loop, JSONRenderer(output: output), kernelWatch, live)
        case .svg: LiveServing.run(loop, SVGRenderer(output: output), serving: live)
        }
        state.finished.store(true, ordering: .relaxed)
        let stats = try result.get()
        // EPIPE: the reader left (`| head -1`); the run ends as after Ctrl-C, as tcpdump's does.
        if let failure = output.writeError, failure != EPIPE {
            throw CaptureError("cannot write the output: \(Errno(rawValue: failure))")
        }
        if format != .json || output.writeError == EPIPE { printStatsLikeTcpdump(stats) }
        live?.serveUntilTerminated(state)
        return Self.exitStatus(after: state.endingSignal.load(ordering: .relaxed))
    }

    /// After Ctrl-C on a file: the loop has 1 s to end by itself (it does unless blocked in a
    /// read from a stalled pipe); then the process ends, status 0, with the lines shown so far.
    private static func exitUnlessFinished(_ state: WatchState) {
        for _ in 0..<100 {
            if state.finished.load(ordering: .relaxed) { return }
            Syscall.sleep(seconds: 0.01)
        }
        Console.exit(0)
    }

    /// After a signal in a live capture: the loop has 5 s to end by itself (summaries, stats,
    /// the tracefs instance removed). If it is stuck (a write to a pipe nobody reads), the
    /// instance is removed from here and the process ends.
    private static func leaveIfStuck(_ state: WatchState, after signal: Int32) {
        for _ in 0..<500 {
            if state.finished.load(ordering: .relaxed) { return }
            Syscall.sleep(seconds: 0.01)
        }
        state.cleanup.withLock { $0?() }
        Console.error("handshake-watch: the capture did not end within 5 s of signal \(signal): left without its summary")
        Console.exit(exitStatus(after: signal) == 0 ? 1 : exitStatus(after: signal))
    }

    /// The loop, with the kernel's events beside the packets when `--kernel` is on, and a copy
    /// of every event for the live view when serving (LiveServing).
    private func run<R: Renderer>(_ loop: CaptureLoop, _ renderer: R, _ kernel: KernelWatch?,
                                  _ live: LiveServing?) -> Result<CaptureStats, CaptureError> {
        guard let kernel else { return LiveServing.run(loop, renderer, serving: live) }
        guard let events = LiveServing.eventsRenderer(serving: live) else {
            return loop.run(KernelRenderer(renderer, kernel: kernel, format: kernelStyle(), relative: relative))
        }
        let both = KernelRenderer(TeeRenderer(renderer, events), kernel: kernel, format: kernelStyle(), relative: relative)
        both.mirror = { (json: String) in   // the kernel's events, as JSON, whatever the terminal's format
            events.output.string(json)
            events.output.endLine()
        }
        return loop.run(both)
    }

    private func kernelStyle<Base>() -> KernelRenderer<Base>.Style {
        switch format { case .text: .text; case .ladder, .svg: .ladder; case .json: .json }
    }

    /// `--kernel`: the tracefs instance (root), sock_diag and the counters. Without root, one line
    /// says what is missing and what still works, and the run goes on with the rest.
    private func startKernelWatch() throws(CaptureError) -> KernelWatch {
        let expression = filter.joined(separator: " ")
        let watch: KernelWatch
        do {
            watch = try KernelWatch(filterExpression: expression.allSatisfy(\.isWhitespace) ? nil : expression,
                                    ports: Self.singlePort(filter))
        } catch {
            throw CaptureError("--kernel: cannot read the socket table: \(error)")
        }
        if let problem = watch.tracepointProblem {
            Console.error("handshake-watch: --kernel: no TCP states or resets: the tracepoints \(problem); still shown: "
                + "accept queues, TIME_WAIT and SYN_RECV sockets (sock_diag) and the ListenOverflows/ListenDrops counters")
        }
        return watch
    }

    /// `port N` or `tcp port N`: the one port the kernel can filter its tracepoints on.
    static func singlePort(_ words: [String]) -> [Int] {
        let parts = words.joined(separator: " ").split(separator: " ").filter { $0 != "tcp" && $0 != "and" }
        guard parts.count == 2, parts[0] == "port", let port = Int(parts[1]), (1...65535).contains(port) else { return [] }
        return [port]
    }

    /// The sidecar of the file read (`X.pcap` → `X.events.jsonl`), when there is one and
    /// --no-events does not say no. Lines that are not events are named on stderr and skipped.
    private func recordedEvents() throws(CaptureError) -> RecordedEvents? {
        guard let readFile, readFile != "-", !noEvents else { return nil }
        let path = EventsFile.sidecarPath(forCapture: readFile)
        let contents: EventsFile.Contents?
        do { contents = try EventsFile.read(path: path) } catch { throw CaptureError("cannot read the recorded events \(error)") }
        guard let contents else { return nil }
        for (line, reason) in contents.rejected.prefix(5) {
            Console.error("handshake-watch: warning: \(path) line \(line) skipped: \(reason)")
        }
        if contents.rejected.count > 5 {
            Console.error("handshake-watch: warning: \(path): \(contents.rejected.count - 5) more lines skipped")
        }
        Console.error("events from \(path): \(contents.events.count) (--no-events leaves them out)")
        return RecordedEvents(contents.events)
    }

    /// `tcp`, plus the user's expression. A file with no expression needs no BPF at all: the
    /// decoder ignores what is not TCP, and VLAN-tagged frames (which plain `tcp` would not match
    /// in a file) still get through.
    private func bpfExpression(live: Bool) -> String? {
        let expression = filter.joined(separator: " ")
        if expression.allSatisfy(\.isWhitespace) { return live ? "tcp" : nil }
        return "tcp and (\(expression))"   // and, in Ethernet files, behind a VLAN tag (Capture.setFilter)
    }
}

extension ColorMode: ExpressibleByArgument {}

/// The output formats of `--format`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, ladder, json, svg
}

/// `--format svg`: the ladder diagram of every connection as one standalone SVG file, written
/// when the capture ends (the end of a `-r` file, `-c`, or Ctrl-C). The projector page draws the
/// same diagram live; this is the one for slides and handouts.
final class SVGRenderer: Renderer {
    let output: OutputBuffer
    private var events: [LadderEvent] = []

    init(output: OutputBuffer) {
        self.output = output
    }

    func packet(_ tracked: TrackedPacket) {
        let packet = tracked.packet
        events.append(.packet(LadderEvent.Segment(
            time: packet.time.value, source: Self.endpoint(packet.source), destination: Self.endpoint(packet.destination),
            flags: TCPFlags.names.filter { packet.tcp.flags.contains($0.0) }.map { "\($0.1)" },
            sequence: packet.tcp.sequence, acknowledgement: packet.tcp.acknowledgement,
            length: packet.tcp.payloadLength, connection: tracked.connection, step: tracked.step.rawValue)))
    }

    /// A recorded `link-drop`: the lost arrow, ending in ✗.
    func event(_ event: TimelineEvent) {
        if event.type == "link-drop", let lost = LadderEvent(event) { events.append(lost) }
    }

    func connectionEnded(_ summary: ConnectionSummary) {
        events.append(.connection(LadderEvent.Summary(
            connection: summary.connection, client: summary.client.description, server: summary.server.description,
            outcome: summary.outcome.rawValue, connState: nil)))
    }

    func finish(_ stats: CaptureStats) {
        output.string(SVGLadderWriter.svg(ladderEvents: events))
        output.flush()
    }

    private static func endpoint(_ endpoint: Endpoint) -> LadderEndpoint {
        LadderEndpoint(address: endpoint.address.description, port: Int(endpoint.port))
    }
}

/// `--serve [ADDR:]PORT`: the projector view's web server beside the capture. The hub is fed
/// by a JSON renderer, the same that writes `--format json`, so the browser receives exactly
/// those objects (packets, connections, the sidecar's events, the stats) whatever the
/// terminal shows.
struct LiveServing {
    let server: LiveViewServer

    /// Binds, starts serving, and prints the readiness line on stderr.
    static func start(_ text: String) throws(CaptureError) -> LiveServing {
        do {
            return LiveServing(server: try LiveViewServer.start(serving: text, hub: EventHub()))
        } catch {
            throw CaptureError(error.description)
        }
    }

    /// Runs the capture loop with `renderer`, and with the live view's JSON renderer beside it
    /// when there is one.
    static func run<R: Renderer>(_ loop: CaptureLoop, _ renderer: R,
                                 serving live: LiveServing?) -> Result<CaptureStats, CaptureError> {
        guard let events = eventsRenderer(serving: live) else { return loop.run(renderer) }
        return loop.run(TeeRenderer(renderer, events))
    }

    /// A JSON renderer whose lines go to the hub when serving, and to the file
    /// `SOCKETTUTOR_EVENTS_FILE` names when set (the lesson runner's `--serve` collects every
    /// watcher's events there); nil when neither.
    static func eventsRenderer(serving live: LiveServing?) -> JSONRenderer? {
        let hub = live?.server.hub
        let file = getenv("SOCKETTUTOR_EVENTS_FILE").flatMap {
            try? Syscall.open(String(cString: $0), flags: O_WRONLY | O_APPEND | O_CREAT, traced: false)
        }
        guard hub != nil || file != nil else { return nil }
        return JSONRenderer(output: OutputBuffer(lines: { line in
            hub?.append(line)
            if let file {   // one write(2) per line, appended (O_APPEND): several watchers' lines do not mix
                _ = try? (line + [0x0A]).withUnsafeBytes { try Syscall.writeAll(file, $0, traced: false) }
            }
        }))
    }

    /// After the capture ended (a file's end, `-c`): keeps serving until SIGINT or SIGTERM (the
    /// one that stopped the capture counts), then sends `event: end` to every browser.
    func serveUntilTerminated(_ state: WatchState) {
        while !state.stopped.load(ordering: .relaxed) {
            if Signals.wait(for: Signals.endingByDefault, timeout: 0.5) != nil { break }
        }
        server.hub.end(waitingUpTo: 2)
    }
}
