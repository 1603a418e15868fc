@preconcurrency import Glibc
import KernelKit
import LiveView
import SocketCore
import Timeline

/// `--serve [ADDR:]PORT`: the projector view's web server beside the capture. The hub is fed
/// by a JSON renderer, the same that writes `--format json`, so the browser receives exactly
/// those objects (packets, connections, the sidecar's events, the stats) whatever the
/// terminal shows.
struct LiveServing {
    let server: LiveViewServer

    /// Binds, starts serving, and prints the readiness line on stderr. `source`: a live capture,
    /// or a file's replay (the page's badge).
    static func start(_ text: String, source: EventHub.Source) throws(CaptureError) -> LiveServing {
        do {
            return LiveServing(server: try LiveViewServer.start(serving: text, hub: EventHub(source: source)))
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
