@preconcurrency import Glibc
import ProcessTrace
import SocketCore
import Synchronization
import Timeline

/// `-- COMMAND` and `--pid`: the tracer beside the capture. Started once the capture listens
/// (so COMMAND's first packet is caught), stopped after the loop: `--pid` processes are detached
/// and go on as before; COMMAND, if still running, is killed with us (PTRACE_O_EXITKILL).
public struct Tracing: Sendable {
    public let session: TraceSession
    public let isCommand: Bool

    /// Starts COMMAND under the tracer, or attaches to the processes.
    /// `splitsCalls`: the output shows a long call's start at its place (text).
    public static func start(command: [String], pids: [Int32], splitsCalls: Bool) throws(CaptureError) -> Tracing {
        do {
            if !command.isEmpty {
                return Tracing(session: try TraceSession.start(.command(command), callsInProgress: splitsCalls), isCommand: true)
            }
            return Tracing(session: try TraceSession.start(.processes(pids), callsInProgress: splitsCalls), isCommand: false)
        } catch {
            throw CaptureError(error.description)
        }
    }

    /// `--pid`: one line on stderr once every thread is attached (`tracing 4242 (python3): 3 threads,
    /// every system call stops`), the moment from which its calls are shown.
    public func announce() {
        guard !isCommand else { return }
        for pid in session.attached {
            Console.error("tracing \(pid.pid) (\(pid.command)): \(pid.threads) thread\(pid.threads == 1 ? "" : "s"), every system call stops (no seccomp filter for a running process)")
        }
    }

    /// The capture's packet test without a FILTER: the traced programs' connections only.
    public func keeps(_ packet: Packet) -> Bool {
        session.sockets.matches(source: packet.source.description, sourcePort: Int(packet.source.port),
                                destination: packet.destination.description, destinationPort: Int(packet.destination.port),
                                time: EpochTime(packet.time))
    }

    /// What SIGINT or SIGTERM does to the watch. With COMMAND, Ctrl-C has reached COMMAND too (it
    /// is in the terminal's foreground process group): the watch goes on until COMMAND ends, and
    /// a second one ends it at once. SIGTERM sent to us alone is passed on to COMMAND. With
    /// `--pid`, the first signal ends the watch (and detaches).
    /// Returns true when the watch should stop now.
    public func shouldStop(on signal: Int32, count: Int) -> Bool {
        guard isCommand else { return true }
        if count > 1 { return true }
        let pid = session.commandPid.load(ordering: .relaxed)
        if signal == SIGTERM, pid > 0 { Syscall.kill(pid, SIGTERM) }
        return false
    }

    /// After the loop: detach (`--pid`), and the status to exit with: COMMAND's, as `time` and
    /// strace give it (128+N when a signal killed it); 0 for `--pid`.
    public func finish() -> Int32 {
        if !isCommand {
            session.detach()
            return 0
        }
        guard let status = session.feed.commandStatus else { return 130 }   // ended by a second Ctrl-C
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    /// `-w X.pcap`: the calls, output lines and exits go to `X.events.jsonl` beside it.
    public static func writeSidecar(_ events: [TimelineEvent], notRecorded: Int, capture path: String) throws(CaptureError) {
        let sidecar = EventsFile.sidecarPath(forCapture: path)
        do {
            try EventsFile.write(events, to: sidecar)
        } catch {
            throw CaptureError("cannot write the events: \(error)")
        }
        if notRecorded > 0 {
            Console.error("handshake-watch: \(sidecar): the first \(events.count) events kept, \(notRecorded) more left out")
        }
    }
}

/// The tracing of a run, once started: the signal thread reads it to decide what a signal does.
public final class TracingSlot: Sendable {
    private let slot = Mutex<Tracing?>(nil)
    public init() {}
    public var tracing: Tracing? {
        get { slot.withLock { $0 } }
        set { slot.withLock { $0 = newValue } }
    }
}

/// The traced renderer of a run, kept so the events it saw can be written beside `-w`'s file.
public final class TracedEvents {
    private var take: (() -> ([TimelineEvent]?, Int))?

    public init() {}

    /// `renderer` wrapped in a TracedRenderer when tracing, as it is otherwise.
    public func wrap<R: Renderer>(_ renderer: R, _ tracing: Tracing?, _ state: WatchState, splits: Bool, recording: Bool) -> any Renderer {
        guard let tracing else { return renderer }
        let traced = TracedRenderer(renderer, feed: tracing.session.feed, state: state, splitsCalls: splits, recording: recording)
        take = { (traced.recorded, traced.notRecorded) }
        return traced
    }

    public var recorded: [TimelineEvent]? { take?().0 }
    public var notRecorded: Int { take?().1 ?? 0 }
}
