@preconcurrency import Glibc
import SocketCore
import Timeline

/// lab-link from start to end: check, build the lab network, print the readiness line, forward
/// until a signal, print the stats, take the network down. The main only parses the flags.
public enum LabLink {
    /// How events and stats are written: text lines, or JSON Lines (EVENTS.md).
    public enum Format: String, Sendable, CaseIterable { case text, json }

    /// Runs the link; returns the exit status (0 after SIGINT/SIGTERM/SIGHUP, 1 on an error,
    /// reported as one line on stderr).
    public static func run(_ options: LinkOptions, format: Format) -> Int32 {
        guard geteuid() == 0 else {
            Console.error("lab-link: needs root: it creates network namespaces and TUN devices (run it with sudo)")
            return 1
        }
        let rules: DropRules
        do { rules = try DropRules(options.drops) } catch {
            Console.error("lab-link: \(error)")
            return 1
        }
        // Before any thread or child exists: the signals wait in the signalfd, never kill us half-built.
        Signals.blockTerminationAndHangup()
        Signals.ignoreBrokenPipe()
        let topology = LabTopology(prefix: options.prefix)
        var claim = LabClaim(topology: topology)
        var devices: [Int32] = []
        defer {
            for fd in devices { try? Syscall.close(fd) }   // the TUN devices vanish with their descriptors
            claim.release()
        }
        do {
            let signals = try Syscall.terminationSignalDescriptor()
            for note in try claim.clearLeftovers() { Console.error("lab-link: " + note) }
            try claim.createNamespace(topology.clientNamespace)
            try claim.createNamespace(topology.serverNamespace)
            devices.append(try topology.createSide(namespace: topology.clientNamespace, device: topology.clientDevice,
                                                   ipv4: LabTopology.clientIPv4, ipv6: LabTopology.clientIPv6))
            devices.append(try topology.createSide(namespace: topology.serverNamespace, device: topology.serverDevice,
                                                   ipv4: LabTopology.serverIPv4, ipv6: LabTopology.serverIPv6))
            let forwarder = LinkForwarder(client: devices[0], server: devices[1], signals: signals,
                                          options: options, rules: rules) { event in
                Console.line(format == .json ? event.jsonLine
                                             : Clock.timeOfDay(event.time) + " " + (event.linkDropText ?? ""))
            }
            let ready = topology.readinessLine(options)
            if format == .json { Console.error(ready) } else { Console.line(ready) }
            let signal = try forwarder.run()
            report(forwarder.finalStats(), format: format, signal: signal)
            return 0
        } catch {
            Console.error("lab-link: \(error)")
            return 1
        }
    }

    /// The stats, one line per direction.
    static func report(_ stats: [LinkStats], format: Format, signal: Int32) {
        let now = Clock.now()
        for (side, name) in LinkDirection.Name.allCases.enumerated() {
            Console.line(format == .json ? stats[side].event(name, time: now).jsonLine : stats[side].line(name))
        }
    }
}
