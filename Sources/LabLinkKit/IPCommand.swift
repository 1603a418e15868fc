import SocketCore

/// iproute2's `ip`, run as a teacher would type it: `ip netns add st-client`,
/// `ip -n st-client addr add 10.77.0.1/24 dev st-c`. lab-link makes its namespaces and gives its
/// addresses through it, so `--trace` shows the very commands a class can repeat by hand.
public enum IPCommand {
    /// Runs `ip ARGUMENTS` and waits for it. A failure is one line: the command and the first
    /// line `ip` wrote on stderr (`ip netns add st-client: Cannot create namespace file ...`).
    public static func run(_ arguments: [String]) throws {
        let shown = "ip " + arguments.joined(separator: " ")
        let pipe = try Syscall.pipe()
        let child: Int32
        do {
            child = try Syscall.spawn(["ip"] + arguments, stderrFD: pipe.write)
        } catch {
            try? Syscall.close(pipe.read)
            try? Syscall.close(pipe.write)
            throw LabLinkError("cannot run `\(shown)`: \(error) (is iproute2 installed?)")
        }
        try? Syscall.close(pipe.write)
        var message: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while let count = try? chunk.withUnsafeMutableBytes({ try Syscall.read(pipe.read, into: $0) }), count > 0 {
            if message.count < 4096 { message += chunk[..<count] }   // bounded: only the first line is shown
        }
        try? Syscall.close(pipe.read)
        let status = Syscall.waitForExit(child) ?? 128 + 9   // nil only if it is not our child: report it as killed
        guard status == 0 else {
            let first = message.split(separator: 0x0A).first.map { Console.printable($0) } ?? "exit status \(status)"
            throw LabLinkError("`\(shown)` failed: \(first)")
        }
    }
}
