import ArgumentParser
import BuildInfo
import LabLinkKit
import SocketCore

/// lab-link: a link with delay, loss and a bottleneck between two network namespaces.
struct LabLinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab-link",
        abstract: "A network link with delay, loss and a bottleneck, between two network namespaces.",
        discussion: """
        Creates the namespaces PREFIX-client (TUN device PREFIX-c: 10.77.0.1/24, fd77::1/64) and \
        PREFIX-server (PREFIX-s: 10.77.0.2/24, fd77::2/64) and forwards every IP packet between \
        them, applying per direction, in this order: the --drop rules, --loss, --rate with its \
        --queue, --delay with --jitter, --duplicate. Run programs inside with \
        `ip netns exec st-server ...`. Needs root. SIGINT or SIGTERM prints the stats and removes both namespaces.
        """,
        version: BuildInfo.versionLine)

    @Option(help: "One-way delay added to every packet (50ms: a 100 ms round trip). Units: s, ms, us.")
    var delay = "0"
    @Option(help: "Each packet's delay varies by up to this much, up or down (uniformly); no reordering unless --reorder.")
    var jitter = "0"
    @Option(help: "Percentage of packets lost at random, from the seeded generator (10%).")
    var loss = "0"
    @Option(help: "Link rate: each packet takes size×8/rate to send, so the link is a bottleneck (10mbit, 500kbit, 1gbit).")
    var rate: String?
    @Option(help: "Packets that may wait for the --rate link (drop-tail: the next one is dropped).")
    var queue = LinkOptions.defaultQueue
    @Option(help: "Percentage of packets sent without the delay, ahead of earlier ones.")
    var reorder = "0"
    @Option(help: "Percentage of packets sent twice.")
    var duplicate = "0"
    @Option(help: "Seed of the random generators: the same seed loses the same packets in every run.")
    var seed = LinkOptions.defaultSeed
    @Option(name: .customLong("drop"), help: ArgumentHelp(
        "Drop the first packet matching this libpcap filter (pcap-filter(7), over raw IP), then the rule is used up. Repeat for more rules, tried in order.",
        valueName: "filter"))
    var drops: [String] = []
    @Option(help: "text: drops as lines; json: JSON Lines (link-drop, link-stats; the readiness line goes to stderr).")
    var format: LabLink.Format = .text
    @Option(help: "The start of every name: PREFIX-client, PREFIX-server, PREFIX-c, PREFIX-s.")
    var prefix = "st"
    @Flag(help: "Print every system call on stderr, strace style: the ip commands, setns, TUNSETIFF, each packet's read and write.")
    var trace = false

    func validate() throws {
        _ = try options()
    }

    func options() throws -> LinkOptions {
        var options = LinkOptions()
        do {
            options.delay = try LinkUnits.parseTime(delay)
            options.jitter = try LinkUnits.parseTime(jitter)
            options.loss = try LinkUnits.parsePercent(loss)
            options.rate = try rate.map { try LinkUnits.parseRate($0) } ?? 0
            options.reorder = try LinkUnits.parsePercent(reorder)
            options.duplicate = try LinkUnits.parsePercent(duplicate)
            try LinkUnits.checkPrefix(prefix)
        } catch {
            throw ValidationError("\(error)")
        }
        guard queue >= 1 && queue <= 100_000 else { throw ValidationError("--queue must be from 1 to 100000 packets") }
        options.queue = queue
        options.seed = seed
        options.drops = drops
        options.prefix = prefix
        return options
    }

    func run() throws {
        Console.lineBuffered()
        if trace { Trace.enable() }
        let status = LabLink.run(try options(), format: format)
        Console.exit(status)
    }
}

extension LabLink.Format: ExpressibleByArgument {}

LabLinkCommand.main()
