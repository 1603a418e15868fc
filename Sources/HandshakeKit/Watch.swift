@preconcurrency import Glibc
import KernelKit
import LiveView
import SocketCore
import Timeline

/// One run of handshake-watch, as its options describe it: open the capture, attach the filter,
/// say "listening on ...", start the kernel view, the tracer and the live view when asked, then
/// for each packet decode it, follow its connection, print the step (tcpdump's main loop), and
/// end cleanly on any signal. `Sources/HandshakeWatch/main.swift` only parses the arguments into
/// one of these and runs it.
public struct Watch {
    public var interface: String?
    public var readFile: String?
    public var writeFile: String?
    public var count: Int?
    public var snapshotLength = 256
    public var bufferKiB = 16_384
    public var format: OutputFormat = .text
    public var timeSequenceConnection: Int?
    public var relative = false
    public var pace: Double?
    public var step = false
    public var noEvents = false
    public var noColor = false
    public var color: ColorMode = .auto
    public var brief = false
    public var width: Int?
    /// The widths `--width` and `$COLUMNS` may ask for (`--width 0`: whole lines).
    public static let widths = 40...1000
    /// The width with no terminal and no `$COLUMNS`: a projector's 80 columns.
    public static let defaultWidth = 80
    public var maxConnections = 65_536
    public var kernel = false
    public var serve: String?
    public var pids: [Int] = []
    public var filter: [String] = []
    /// `-- COMMAND [ARGS...]`: the program to run under the tracer.
    public var command: [String] = []

    /// True with `-- COMMAND` or `--pid`.
    var isTracing: Bool { !command.isEmpty || !pids.isEmpty }

    public init() {}

    /// Watches until the capture ends or a signal stops it; returns the exit status (0, a traced
    /// COMMAND's, or 128 + N after signal N).
    public func run() throws(CaptureError) -> Int32 {
        try watch()
    }

    /// The exit status after `signal` stopped the run, once everything is cleaned up: 0 for
    /// those tcpdump ends on cleanly (SIGINT, SIGTERM, SIGHUP, SIGPIPE), 128 + N for the others,
    /// as a shell reports a process that signal killed (without the core dump SIGQUIT would write).
    static func exitStatus(after signal: Int32) -> Int32 {
        [0, SIGINT, SIGTERM, SIGHUP, SIGPIPE].contains(signal) ? 0 : 128 + signal
    }

    /// Returns the exit status: 0, or COMMAND's.
    func watch() throws(CaptureError) -> Int32 {
        let interface = self.interface ?? "lo"
        // 0. A thread waits for the signals that end a run and stops the loop; it also gives the
        //    idle hint. It starts first: opening a FIFO (`-r fifo`) blocks until a writer comes.
        let state = WatchState()
        let tracingNow = TracingSlot()
        try startSignalThread(state: state, tracingNow: tracingNow, interface: interface)

        // 0. A --pid that names no process is a usage mistake: one line, before the capture
        //    says it listens (as tcpdump names a missing interface before listening).
        if let missing = pids.first(where: { !Syscall.processExists(pid_t(clamping: $0)) }) {
            throw CaptureError("--pid \(missing): no such process")
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
        // A file is a replay; `-r -` from a pipe (tcpdump -w -) is as live as an interface.
        let source: EventHub.Source = readFile.map { !CaptureFileInfo.isStream($0) } == true ? .replay : .live
        let live = try serve.map { text throws(CaptureError) in try LiveServing.start(text, source: source) }

        // 4. The program: started (or attached to) now that the capture listens.
        let tracing = isTracing ? try Tracing.start(command: command, pids: pids.map(Int32.init), splitsCalls: format == .text || format == .ladder) : nil
        tracingNow.tracing = tracing
        tracing?.announce()

        // 5. The loop, specialised for the chosen renderer.
        // Live captures flush whenever the ring is empty (CaptureLoop, .timeout): each burst appears
        // at once, without a write(2) per line. A terminal and slow replays flush every line.
        // Tracing: COMMAND shares our stdout, so each line leaves in one write(2) (atomic in a
        // pipe up to PIPE_BUF) and the program's own lines cannot land inside one of ours.
        let liveOutput = pace != nil || step || isTracing || Syscall.isTerminal(STDOUT_FILENO) || readFile.map(CaptureFileInfo.isStream) == true
        let output = OutputBuffer(file: stdout, flushesEachLine: liveOutput)
        output.wrapper = lineWrapper()
        let palette = Palette(enabled: Palette.wanted(noColor ? .never : color))
        let timeFormat: TimeFormat = relative ? .relative : .timeOfDay
        var loop = CaptureLoop(capture: capture, linkLayer: linkLayer, tracker: ConnectionTracker(limit: maxConnections),
                               count: count, replay: Replay(pace: pace, step: step, state: state), state: state,
                               events: try recordedEvents())
        if let tracing, filter.allSatisfy({ $0.allSatisfy(\.isWhitespace) }) { loop.keeps = tracing.keeps }
        if tracing != nil { loop.gatherMicroseconds = 2_000 }   // lines wait 50 ms anyway: 2 ms more gathers a round trip's packets
        let traced = TracedEvents()
        let pairs = pairedLines(output, palette)
        let result = switch format {
        case .text:
            if let pairs { run(loop, pairs, kernelWatch, live, tracing: tracing, traced: traced, state: state, pairs: pairs) }
            else { run(loop, TextRenderer(output: output, palette: palette, timeFormat: timeFormat, brief: brief), kernelWatch, live,
                       tracing: tracing, traced: traced, state: state) }
        case .ladder: run(loop, LadderRenderer(output: output, palette: palette), kernelWatch, live, tracing: tracing, traced: traced, state: state)
        case .json: run(loop, JSONRenderer(output: output), kernelWatch, live, tracing: tracing, traced: traced, state: state)
        case .svg: LiveServing.run(loop, traced.wrap(SVGRenderer(output: output, drawsCalls: tracing != nil), tracing, state,
                                                     splits: false, recording: writeFile != nil), serving: live)
        case .timeseq: runTimeSequence(loop, TimeSequenceRenderer(output: output, connection: timeSequenceConnection), kernelWatch, live)
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

    /// The thread that answers signals (sigwait, as ordinary code: no handler) and, on a live
    /// capture that sees nothing for 5 s on an interface other than lo, says where to look.
    private func startSignalThread(state: WatchState, tracingNow: TracingSlot, interface: String) throws(CaptureError) {
        let hint = readFile == nil && interface != "lo" && interface != "any"
        let isFile = readFile != nil
        let watchedInterface = interface
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
    }

    /// Tracing without a capture (no root): the program's calls and output, no packets.
    private func watchCallsOnly(state: WatchState, tracingNow: TracingSlot) throws(CaptureError) -> Int32 {
        let tracing = try Tracing.start(command: command, pids: pids.map(Int32.init), splitsCalls: format == .text || format == .ladder)
        Console.error("handshake-watch: packets and the kernel view need root or CAP_NET_RAW: showing the program's calls only")
        tracingNow.tracing = tracing
        tracing.announce()
        let output = OutputBuffer(file: stdout, flushesEachLine: true)   // COMMAND shares our stdout
        output.wrapper = lineWrapper()
        let palette = Palette(enabled: Palette.wanted(noColor ? .never : color))
        switch format {
        case .json:
            TracedRenderer(JSONRenderer(output: output), feed: tracing.session.feed, state: state, splitsCalls: false, recording: false).runWithoutPackets()
        default:
            if let pairs = pairedLines(output, palette) {
                TracedRenderer(pairs, feed: tracing.session.feed, state: state, splitsCalls: true, recording: false).runWithoutPackets()
            } else {
                TracedRenderer(TextRenderer(output: output, palette: palette, timeFormat: relative ? .relative : .timeOfDay, brief: brief),
                               feed: tracing.session.feed, state: state, splitsCalls: true, recording: false).runWithoutPackets()
            }
        }
        state.finished.store(true, ordering: .relaxed)
        return tracing.finish()
    }

    /// The lesson runner's projector form (`SOCKETTUTOR_LINES=paired`, plain text only): brief and
    /// whole lines side by side. Nil when the environment does not ask for it.
    private func pairedLines(_ output: OutputBuffer, _ palette: Palette) -> PairedLinesRenderer? {
        guard format == .text && !brief && LinesForm.fromEnvironment() == .paired else { return nil }
        return PairedLinesRenderer(output: output, palette: palette, timeFormat: relative ? .relative : .timeOfDay)
    }

    /// The width text and ladder lines are fitted to: --width (0: whole lines), else the
    /// terminal's, else $COLUMNS (40 to 1000), else 80. A program that reads the lines asks for
    /// them whole (SOCKETTUTOR_LINES: the lesson runner, which fits what it shows itself; the tests).
    private func lineWrapper() -> LineWrapper? {
        guard format == .text || format == .ladder else { return nil }
        if let width { return width == 0 ? nil : LineWrapper(width: width) }
        if LinesForm.fromEnvironment() != nil { return nil }
        let asked = Syscall.columnsVariable().flatMap { Self.widths.contains($0) ? $0 : nil }
        return LineWrapper(width: Syscall.terminalColumns(STDOUT_FILENO) ?? asked ?? Self.defaultWidth)
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

    /// After a signal in a live capture the loop ends by itself (summaries, stats, the tracefs
    /// instance removed), however long a loaded machine takes. Two things end it from here, the
    /// instance removed first: a write that has not returned for 5 s (stdout is a pipe nobody
    /// reads, and the loop can never finish), or a second signal (the user will not wait).
    private static func leaveIfStuck(_ state: WatchState, after signal: Int32) {
        var done = OutputBuffer.writesDone.load(ordering: .relaxed)
        var blocked = 0   // hundredths of a second spent in one write
        var reason = ""
        while reason.isEmpty {
            if let again = Signals.wait(for: Signals.endingByDefault, timeout: 0.01) {
                reason = "a second signal (\(again))"
                break
            }
            if state.finished.load(ordering: .relaxed) { return }
            let (begun, now) = (OutputBuffer.writesBegun.load(ordering: .relaxed), OutputBuffer.writesDone.load(ordering: .relaxed))
            blocked = begun > now && now == done ? blocked + 1 : 0
            done = now
            if blocked >= 500 { reason = "output blocked for 5 s (a reader that stopped reading?)" }
        }
        state.cleanup.withLock { $0?() }
        Console.error("handshake-watch: \(reason) after signal \(signal): left without its summary")
        Console.exit(exitStatus(after: signal) == 0 ? 1 : exitStatus(after: signal))
    }

    /// The loop, with the kernel's events beside the packets when `--kernel` is on, and a copy
    /// of every event for the live view when serving (LiveServing).
    private func run<R: Renderer>(_ loop: CaptureLoop, _ renderer: R, _ kernel: KernelWatch?, _ live: LiveServing?,
                                  tracing: Tracing?, traced: TracedEvents, state: WatchState,
                                  pairs: PairedLinesRenderer? = nil) -> Result<CaptureStats, CaptureError> {
        guard tracing != nil else {
            // Specialised for the renderer's own type: the packet loop without a tracer.
            guard let kernel else { return LiveServing.run(loop, renderer, serving: live) }
            guard let events = LiveServing.eventsRenderer(serving: live) else {
                return runWithKernel(loop, renderer, kernel, mirror: nil, pairs: pairs)
            }
            return runWithKernel(loop, TeeRenderer(renderer, events), kernel, mirror: events, pairs: pairs)
        }
        // A traced program's events go to the terminal's format and to the live view's alike.
        let events = LiveServing.eventsRenderer(serving: live)
        let recording = writeFile != nil
        guard let kernel else {
            guard let events else { return loop.run(traced.wrap(renderer, tracing, state, splits: format == .text || format == .ladder, recording: recording)) }
            return loop.run(traced.wrap(TeeRenderer(renderer, events), tracing, state, splits: format == .text || format == .ladder, recording: recording))
        }
        guard let events else {
            return runWithKernel(loop, traced.wrap(renderer, tracing, state, splits: format == .text || format == .ladder, recording: recording), kernel,
                                 mirror: nil, pairs: pairs)
        }
        return runWithKernel(loop, traced.wrap(TeeRenderer(renderer, events), tracing, state, splits: format == .text || format == .ladder, recording: recording),
                             kernel, mirror: events, pairs: pairs)
    }

    /// `--format timeseq`. With --kernel the kernel's events go to the graph (its congestion-window
    /// plot), not to stdout; the live view's JSON renderer, teed beside it, gets them from there.
    private func runTimeSequence(_ loop: CaptureLoop, _ graph: TimeSequenceRenderer, _ kernel: KernelWatch?,
                                 _ live: LiveServing?) -> Result<CaptureStats, CaptureError> {
        guard let kernel else { return LiveServing.run(loop, graph, serving: live) }
        guard let events = LiveServing.eventsRenderer(serving: live) else { return runWithKernel(loop, graph, kernel, mirror: nil) }
        return runWithKernel(loop, TeeRenderer(graph, events), kernel, mirror: nil)
    }

    /// The kernel's events beside `base`'s; `mirror` also gets them as JSON, whatever the
    /// terminal's format (the live view's hub).
    private func runWithKernel<Base: Renderer>(_ loop: CaptureLoop, _ base: Base, _ kernel: KernelWatch,
                                               mirror events: JSONRenderer?, pairs: PairedLinesRenderer? = nil) -> Result<CaptureStats, CaptureError> {
        let both = KernelRenderer(base, kernel: kernel, format: kernelStyle(), relative: relative, brief: brief, pairs: pairs)
        if let events {
            both.mirror = { (json: String) in
                events.output.string(json)
                events.output.endLine()
            }
        }
        return loop.run(both)
    }

    private func kernelStyle<Base>() -> KernelRenderer<Base>.Style {
        switch format { case .text: .text; case .ladder, .svg: .ladder; case .timeseq: .events; case .json: .json }
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
        recorded.splitsCalls = format == .text || format == .ladder
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
