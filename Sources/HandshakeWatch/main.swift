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

    @Option(help: ArgumentHelp("Output: text (a line per packet), ladder (a sequence diagram; traced or recorded calls hang from "
                               + "their end's column), json (JSON Lines), "
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

    @Flag(help: "Short lines for a projector (80 columns for IPv4): each connection's addresses once, then per packet its direction (c→s: client to server), flags, seq/ack, len, win and the step in a few words, no TCP options; kernel and link lines without their explanations.")
    var brief = false

    @Option(help: ArgumentHelp("Fit text and ladder lines to N columns: a longer line goes on under a hanging indent, cut at a space, never cut short. 0: whole lines, as tcpdump prints them (for a program that reads them). Default: the terminal's width when stdout is a terminal, else $COLUMNS (40 to 1000) when set, else 80; whole lines when SOCKETTUTOR_LINES is set (the lesson runner, which fits lines itself).", valueName: "columns"))
    var width: Int?

    @Option(name: .customLong("max-connections"), parsing: .unconditional,
            help: ArgumentHelp("Connections tracked at once; past it the idlest are evicted (bounded memory).", valueName: "n"))
    var maxConnections = 65_536

    @Flag(help: ArgumentHelp("Also show the kernel's view: TCP states and resets (tracepoints in a tracefs instance of our own; root), accept queues, TIME_WAIT and SYN_RECV sockets (sock_diag), the TcpExt counters ListenOverflows and ListenDrops (/proc/net/netstat; they count for the whole network namespace, not one socket), and, when FILTER is 'port N' (the kernel filters it by that port), each sender's congestion window, ssthresh and srtt (tcp:tcp_probe; text prints its doublings and cuts, --format timeseq draws it under the graph). A kernel event passes FILTER when a packet of its connection, either way, would: 'src port 5000' keeps both ends' states."))
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
        // timeseq draws the kernel's congestion window (tcp:tcp_probe) under its graph; svg nothing of it.
        if kernel && format == .svg {
            throw ValidationError("--kernel adds lines that --format svg does not draw: use text, ladder, json or timeseq")
        }
        if timeSequenceConnection != nil && format != .timeseq { throw ValidationError("--conn picks the connection of --format timeseq") }
        if let connection = timeSequenceConnection, connection < 1 { throw ValidationError("--conn must be at least 1") }
        if kernel && readFile != nil {
            throw ValidationError("--kernel watches this machine's kernel now: capture live (-i), not -r")
        }
        if let width, width != 0, !Watch.widths.contains(width) {
            throw ValidationError("--width must be 0 (whole lines) or between \(Watch.widths.lowerBound) and \(Watch.widths.upperBound) columns")
        }
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
            status = try makeWatch().run()
        } catch {
            Console.error("handshake-watch: \(error)")
            throw ExitCode(1)
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// The run the options describe.
    func makeWatch() -> Watch {
        var watch = Watch()
        watch.interface = interface
        watch.readFile = readFile
        watch.writeFile = writeFile
        watch.count = count
        watch.snapshotLength = snapshotLength
        watch.bufferKiB = bufferKiB
        watch.format = format
        watch.timeSequenceConnection = timeSequenceConnection
        watch.relative = relative
        watch.pace = pace
        watch.step = step
        watch.noEvents = noEvents
        watch.noColor = noColor
        watch.color = color
        watch.brief = brief
        watch.width = width
        watch.maxConnections = maxConnections
        watch.kernel = kernel
        watch.serve = serve
        watch.pids = pids
        watch.filter = filter
        watch.command = command
        return watch
    }
}

extension ColorMode: ExpressibleByArgument {}
extension OutputFormat: ExpressibleByArgument {}
