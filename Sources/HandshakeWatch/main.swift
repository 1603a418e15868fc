@preconcurrency import Glibc
import ArgumentParser
import BuildInfo
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
            Live capture needs root or CAP_NET_RAW (the .deb gives it to members of the group sockettutor); --kernel's tracepoints need root (tracefs); reading a file (-r captures/echo-ipv4.pcap) needs neither.
            A file X.pcap read with -r brings the events recorded beside it in X.events.jsonl (the programs' system calls, stamped as strace -tt -T, and their output), shown among the packets in time order.
            FILTER is a BPF expression as for tcpdump ('port 5000', 'host ::1'); 'tcp' is always implied.
            -- COMMAND [ARGS...] runs a program under our tracer once the capture listens: its socket calls (stamped at the tracer's stops, so a call's span holds the packets it caused), its output lines and its exit appear among the packets; without a FILTER only its connections are shown. The watch ends when COMMAND has ended and its connections have finished (at most 2 s later), with COMMAND's exit status (128+N when signal N killed it). Without root the calls still come, the packets do not.
            --pid PID attaches to a running process and all its threads instead; SIGINT, SIGTERM or -c detach and leave it running as before. A running process cannot be given a seccomp filter, so it stops at every system call: slower than -- COMMAND.
            Environment: SOCKETTUTOR_EVENTS_FILE=PATH appends every event, as the JSON lines of --format json, to PATH whatever the format shown (the lesson runner's --serve collects its watchers' events this way).
            """,
        version: BuildInfo.versionLine)

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
                               + "svg (the ladder as one SVG file, written at the end), timeseq (the time-sequence graph "
                               + "of one connection as one SVG file: sequence number against time).", valueName: "format"))
    var format: OutputFormat = .text

    @Option(name: .customLong("conn"), help: ArgumentHelp("With --format timeseq: the connection to draw (its number, #N in the "
                                                       + "text lines); default: the first that carries data.", valueName: "N"))
    var timeSequenceConnection: Int?

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

    @Option(help: ArgumentHelp("Fit text and ladder lines to N columns: a longer line goes on under a hanging indent, cut at a space, never cut short. Default: the terminal's width when stdout is a terminal; into a pipe, whole lines (for the programs that read them).", valueName: "columns"))
    var width: Int?

    @Option(name: .customLong("max-connections"), parsing: .unconditional,
            help: ArgumentHelp("Connections tracked at once; past it the idlest are evicted (bounded memory).", valueName: "n"))
    var maxConnections = 65_536

    @Flag(help: ArgumentHelp("Also show the kernel's view: TCP states and resets (tracepoints in a tracefs instance of our own; root), accept queues, TIME_WAIT and SYN_RECV sockets (sock_diag) and the TcpExt counters ListenOverflows and ListenDrops (/proc/net/netstat; they count for the whole network namespace, not one socket). A kernel event passes FILTER when a packet of its connection, either way, would: 'src port 5000' keeps both ends' states."))
    var kernel = false

    @Option(help: ArgumentHelp("Also serve the live view (a ladder diagram for a projector) on http://ADDR:PORT/ "
                               + "(127.0.0.1 unless ADDR is given; port 0 picks one) until SIGINT or SIGTERM.", valueName: "[addr:]port"))
    var serve: String?

    @Option(name: .customLong("pid"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Attach to this running process and all its threads (PTRACE_SEIZE; repeatable) and show its socket calls; it stops at every system call (no seccomp filter can be added to a running process). Detaching leaves it running as before.", valueName: "pid"))
    var pids: [Int] = []

    @Argument(help: "BPF filter expression, as for tcpdump (pcap_compile(3)); 'tcp' is implied.")
    var filter: [String] = []

    /// `-- COMMAND [ARGS...]`: everything after the first `--` (argument-parser cannot have a
    /// second list of positional arguments after FILTER's, so `main` splits the line there).
    static let commandAfterTerminator: [String] = {
        let all = CommandLine.arguments.dropFirst()
        guard let terminator = all.firstIndex(of: "--") else { return [] }
        return Array(all[(terminator + 1)...])
    }()

    /// The arguments before `--`, for argument-parser.
    static var argumentsBeforeTerminator: [String] {
        let all = CommandLine.arguments.dropFirst()
        guard let terminator = all.firstIndex(of: "--") else { return Array(all) }
        return Array(all[..<terminator])
    }

    var command: [String] { Self.commandAfterTerminator }

    /// True with `-- COMMAND` or `--pid`.
    var isTracing: Bool { !command.isEmpty || !pids.isEmpty }

    /// Like tcpdump, a usage mistake is one line on stderr and exit status 1 (argument-parser
    /// alone would add the whole usage and exit 64); --help still prints the help and exits 0.
    static func main() {
        do {
            var command = try parseAsRoot(argumentsBeforeTerminator)
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
        if kernel && (format == .svg || format == .timeseq) {
            throw ValidationError("--kernel adds lines that --format \(format.rawValue) does not draw: use text, ladder or json")
        }
        if timeSequenceConnection != nil && format != .timeseq { throw ValidationError("--conn picks the connection of --format timeseq") }
        if let connection = timeSequenceConnection, connection < 1 { throw ValidationError("--conn must be at least 1") }
        if kernel && readFile != nil {
            throw ValidationError("--kernel watches this machine's kernel now: capture live (-i), not -r")
        }
        if let width, !(40...1000).contains(width) { throw ValidationError("--width must be between 40 and 1000 columns") }
        if width != nil && format != .text && format != .ladder { throw ValidationError("--width fits text lines: it goes with --format text or ladder") }
        if brief && format != .text { throw ValidationError("--brief shortens the text lines: it goes with --format text only") }
        if maxConnections < 1 { throw ValidationError("--max-connections must be at least 1") }
        if CommandLine.arguments.dropFirst().last == "--" { throw ValidationError("-- must be followed by a command to run") }
        if !command.isEmpty && !pids.isEmpty { throw ValidationError("-- COMMAND runs a program and --pid attaches to one: give one of them") }
        if isTracing && readFile != nil { throw ValidationError("-- COMMAND and --pid watch programs now: capture live, not -r") }
        if let pid = pids.first(where: { $0 <= 0 }) { throw ValidationError("--pid takes a process id (1 or more), got \(pid)") }
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

    /// Returns the exit status: 0, or COMMAND's.
    private func watch() throws(CaptureError) -> Int32 {
        let interface = self.interface ?? "lo"
        // 0. A thread waits for Ctrl-C / SIGTERM and stops the loop; it also gives the idle hint.
        //    It starts first: opening a FIFO (`-r fifo`) blocks until a writer comes.
        let state = WatchState()
        let hint = readFile == nil && interface != "lo" && interface != "any"
        let isFile = readFile != nil
        let watchedInterface = interface
        let tracingNow = TracingSlot()
        let watcher: @Sendable () -> Void = {
            var hinted = !hint
            var waited = 0.0
            var signals = 0
            while true {
                if let signal = Signals.wait(for: Signals.endingByDefault, timeout: 0.5) {
                    signals += 1
                    // With a COMMAND, Ctrl-C is the program's first: the watch ends on the second.
                    if let tracing = tracingNow.tracing, !tracing.shouldStop(on: signal, count: signals) { continue }
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

        // 1. Open the capture. Tracing without the right to capture: the calls alone.
        let capture: Capture
        do {
            capture = if let readFile {
                try Capture.offline(path: readFile)
            } else {
                try Capture.live(interface: interface, snapshotLength: snapshotLength, bufferKiB: bufferKiB)
            }
        } catch where isTracing && error.description.contains("needs root or CAP_NET_RAW") {
            return try watchCallsOnly(state: state, tracingNow: tracingNow)
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

        // 4. The program: started (or attached to) now that the capture listens.
        let tracing = isTracing ? try Tracing.start(command: command, pids: pids.map(Int32.init), splitsCalls: format == .text) : nil
        tracingNow.tracing = tracing
        tracing?.announce()

        // 5. The loop, specialised for the chosen renderer.
        // Live captures flush whenever the ring is empty (CaptureLoop, .timeout): each burst appears
        // at once, without a write(2) per line. A terminal and slow replays flush every line.
        // Tracing: COMMAND shares our stdout, so each line leaves in one write(2) (atomic in a
        // pipe up to PIPE_BUF) and the program's own lines cannot land inside one of ours.
        let liveOutput = pace != nil || step || isTracing || Syscall.isTerminal(STDOUT_FILENO) || readFile.map(CaptureFileInfo.isStream) == true
        let output = OutputBuffer(file: stdout, flushesEachLine: liveOutput)
        if format == .text || format == .ladder, let columns = width ?? Syscall.terminalColumns(STDOUT_FILENO) {
            output.wrapper = LineWrapper(width: columns)
        }
        let palette = Palette(enabled: Palette.wanted(noColor ? .never : color))
        let timeFormat: TimeFormat = relative ? .relative : .timeOfDay
        var loop = CaptureLoop(capture: capture, linkLayer: linkLayer, tracker: ConnectionTracker(limit: maxConnections),
                               count: count, replay: Replay(pace: pace, step: step, state: state), state: state,
                               events: try recordedEvents())
        if let tracing, filter.allSatisfy({ $0.allSatisfy(\.isWhitespace) }) { loop.keeps = tracing.keeps }
        let traced = TracedEvents()
        let result = switch format {
        case .text: run(loop, TextRenderer(output: output, palette: palette, timeFormat: timeFormat, brief: brief), kernelWatch, live,
                        tracing: tracing, traced: traced, state: state)
        case .ladder: run(loop, LadderRenderer(output: output, palette: palette), kernelWatch, live, tracing: tracing, traced: traced, state: state)
        case .json: run(loop, JSONRenderer(output: output), kernelWatch, live, tracing: tracing, traced: traced, state: state)
        case .svg: LiveServing.run(loop, traced.wrap(SVGRenderer(output: output, drawsCalls: tracing != nil), tracing, state,
                                                     splits: false, recording: writeFile != nil), serving: live)
        case .timeseq: LiveServing.run(loop, TimeSequenceRenderer(output: output, connection: timeSequenceConnection), serving: live)
        }
        state.finished.store(true, ordering: .relaxed)
        let status = tracing?.finish() ?? 0
        let stats = try result.get()
        // EPIPE: the reader left (`| head -1`); the run ends as after Ctrl-C, as tcpdump's does.
        if let failure = output.writeError, failure != EPIPE {
            throw CaptureError("cannot write the output: \(Errno(rawValue: failure))")
        }
        if format != .json || output.writeError == EPIPE { printStatsLikeTcpdump(stats) }
        if tracing != nil && loop.keeps != nil {
            Console.error("\(stats.otherPrograms) packet\(stats.otherPrograms == 1 ? "" : "s") of other programs not shown")
        }
        if let writeFile, tracing != nil, let events = traced.recorded {
            try Tracing.writeSidecar(events, notRecorded: traced.notRecorded, capture: writeFile)
        }
        live?.serveUntilTerminated(state)
        // A traced COMMAND's status, as time and strace give it; else how the watch ended.
        return tracing != nil ? status : Self.exitStatus(after: state.endingSignal.load(ordering: .relaxed))
    }

    /// Tracing without a capture (no root): the program's calls and output, no packets.
    private func watchCallsOnly(state: WatchState, tracingNow: TracingSlot) throws(CaptureError) -> Int32 {
        let tracing = try Tracing.start(command: command, pids: pids.map(Int32.init), splitsCalls: format == .text)
        Console.error("handshake-watch: packets and the kernel view need root or CAP_NET_RAW: showing the program's calls only")
        tracingNow.tracing = tracing
        tracing.announce()
        let output = OutputBuffer(file: stdout, flushesEachLine: true)   // COMMAND shares our stdout
        let palette = Palette(enabled: Palette.wanted(noColor ? .never : color))
        switch format {
        case .json:
            TracedRenderer(JSONRenderer(output: output), feed: tracing.session.feed, state: state, splitsCalls: false, recording: false).runWithoutPackets()
        default:
            TracedRenderer(TextRenderer(output: output, palette: palette, timeFormat: relative ? .relative : .timeOfDay, brief: brief),
                           feed: tracing.session.feed, state: state, splitsCalls: true, recording: false).runWithoutPackets()
        }
        state.finished.store(true, ordering: .relaxed)
        return tracing.finish()
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
    private func run<R: Renderer>(_ loop: CaptureLoop, _ renderer: R, _ kernel: KernelWatch?, _ live: LiveServing?,
                                  tracing: Tracing?, traced: TracedEvents, state: WatchState) -> Result<CaptureStats, CaptureError> {
        guard tracing != nil else {
            // Specialised for the renderer's own type: the packet loop without a tracer.
            guard let kernel else { return LiveServing.run(loop, renderer, serving: live) }
            guard let events = LiveServing.eventsRenderer(serving: live) else { return runWithKernel(loop, renderer, kernel, mirror: nil) }
            return runWithKernel(loop, TeeRenderer(renderer, events), kernel, mirror: events)
        }
        // A traced program's events go to the terminal's format and to the live view's alike.
        let events = LiveServing.eventsRenderer(serving: live)
        let recording = writeFile != nil
        guard let kernel else {
            guard let events else { return loop.run(traced.wrap(renderer, tracing, state, splits: format == .text, recording: recording)) }
            return loop.run(traced.wrap(TeeRenderer(renderer, events), tracing, state, splits: format == .text, recording: recording))
        }
        guard let events else {
            return runWithKernel(loop, traced.wrap(renderer, tracing, state, splits: format == .text, recording: recording), kernel, mirror: nil)
        }
        return runWithKernel(loop, traced.wrap(TeeRenderer(renderer, events), tracing, state, splits: format == .text, recording: recording),
                             kernel, mirror: events)
    }

    /// The kernel's events beside `base`'s; `mirror` also gets them as JSON, whatever the
    /// terminal's format (the live view's hub).
    private func runWithKernel<Base: Renderer>(_ loop: CaptureLoop, _ base: Base, _ kernel: KernelWatch,
                                               mirror events: JSONRenderer?) -> Result<CaptureStats, CaptureError> {
        let both = KernelRenderer(base, kernel: kernel, format: kernelStyle(), relative: relative)
        if let events {
            both.mirror = { (json: String) in
                events.output.string(json)
                events.output.endLine()
            }
        }
        return loop.run(both)
    }

    private func kernelStyle<Base>() -> KernelRenderer<Base>.Style {
        switch format { case .text: .text; case .ladder, .svg, .timeseq: .ladder; case .json: .json }
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
        let recorded = RecordedEvents(contents.events)
        recorded.splitsCalls = format == .text && !brief
        return recorded
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
    case text, ladder, json, svg, timeseq
}

/// `--format timeseq`: one connection's time-sequence graph as a standalone SVG, written when
/// the capture ends. The packets are kept as their `--format json` objects (what the projector
/// server's `/timeseq.svg` draws from too), so both pictures are drawn by one writer.
final class TimeSequenceRenderer: Renderer {
    let output: OutputBuffer
    private let connection: Int?
    private var lines: [String] = []
    private lazy var json = JSONRenderer(output: OutputBuffer(lines: { [unowned self] line in
        if line.starts(with: Array("{\"type\":\"packet\"".utf8)) { self.lines.append(String(decoding: line, as: UTF8.self)) }
    }))

    init(output: OutputBuffer, connection: Int?) {
        self.output = output
        self.connection = connection
    }

    func packet(_ tracked: TrackedPacket) {
        if connection == nil || connection == tracked.connection { json.packet(tracked) }
    }

    func connectionEnded(_ summary: ConnectionSummary) {}

    func finish(_ stats: CaptureStats) {
        output.string(TimeSequenceWriter.svg(EventsFile.parse(lines.joined(separator: "\n")).events, connection: connection))
        output.flush()
    }
}

/// `--format svg`: the ladder diagram of every connection as one standalone SVG file, written
/// when the capture ends (the end of a `-r` file, `-c`, or Ctrl-C). The projector page draws the
/// same diagram live; this is the one for slides and handouts.
final class SVGRenderer: Renderer {
    let output: OutputBuffer
    /// `-- COMMAND` / `--pid`: the traced programs' calls are drawn too.
    let drawsCalls: Bool
    private var events: [LadderEvent] = []

    init(output: OutputBuffer, drawsCalls: Bool = false) {
        self.output = output
        self.drawsCalls = drawsCalls
    }

    func packet(_ tracked: TrackedPacket) {
        let packet = tracked.packet
        events.append(.packet(LadderEvent.Segment(
            time: packet.time.value, source: Self.endpoint(packet.source), destination: Self.endpoint(packet.destination),
            flags: TCPFlags.names.filter { packet.tcp.flags.contains($0.0) }.map { "\($0.1)" },
            sequence: packet.tcp.sequence, acknowledgement: packet.tcp.acknowledgement,
            length: packet.tcp.payloadLength, connection: tracked.connection, step: tracked.step.rawValue)))
        if case .packet(var segment) = events.removeLast() {
            // What the JSON carries for the caption: the analysis, the dup ACK's number, the time since the original.
            segment.analysis = tracked.findings.nameList
            segment.duplicateAck = tracked.findings.contains(.duplicateAck) ? tracked.analysis.duplicateAckNumber : nil
            segment.sinceOriginalMilliseconds = tracked.analysis.sinceOriginal.map { ($0 * 1_000_000).rounded() / 1000 }
            events.append(.packet(segment))
        }
    }

    /// A recorded `link-drop` (the lost arrow, ending in ✗), or a traced system call
    /// (`-- COMMAND`, `--pid`): drawn as a bar on its process's side (the side its connect() or
    /// listen()/accept() gave it). A replay's file is drawn as it always was, without calls.
    func event(_ event: TimelineEvent) {
        if event.type == "link-drop", let lost = LadderEvent(event) { events.append(lost) }
        guard drawsCalls, event.type == "syscall", event["part"] == nil, let call = LadderEvent(event) else { return }
        events.append(call)
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

