@preconcurrency import Glibc
import SocketCore

/// The lab network's names and addresses, all made from `--prefix` (default `st`):
///
///     st-client (netns)                              st-server (netns)
///       lo up                                          lo up
///       st-c  10.77.0.1/24 fd77::1/64  <- lab-link ->  st-s  10.77.0.2/24 fd77::2/64
///
/// Each namespace is a separate network stack (interfaces, routes, sockets), as if it were a
/// host; its only way out is its TUN device, whose other side is a descriptor lab-link holds.
public struct LabTopology: Sendable {
    public let prefix: String
    public var clientNamespace: String { prefix + "-client" }
    public var serverNamespace: String { prefix + "-server" }
    public var clientDevice: String { prefix + "-c" }
    public var serverDevice: String { prefix + "-s" }
    public static let clientIPv4 = "10.77.0.1", serverIPv4 = "10.77.0.2"
    public static let clientIPv6 = "fd77::1", serverIPv6 = "fd77::2"
    /// lab-link's packet slots hold 2048 bytes (`PacketPool`); 1500 is Ethernet's MTU.
    public static let mtu = 1500

    public init(prefix: String) { self.prefix = prefix }

    /// Where `ip netns add NAME` keeps a namespace alive (a bind mount of its nsfs file).
    public static func namespacePath(_ name: String) -> String { "/run/netns/" + name }

    /// The readiness line: `link up: st-client 10.77.0.1 <-> st-server 10.77.0.2 (delay 50 ms each way, ...)`.
    public func readinessLine(_ options: LinkOptions) -> String {
        "link up: \(clientNamespace) \(Self.clientIPv4) <-> \(serverNamespace) \(Self.serverIPv4) (\(options.summary))"
    }

    /// Creates one side: the namespace, its TUN device (opened from inside it), addresses, links
    /// up. Returns the TUN descriptor. `ip netns add` is first, so a failure leaves at most the
    /// namespace, which `LabClaim` knows and removes.
    func createSide(namespace: String, device: String, ipv4: String, ipv6: String) throws -> Int32 {
        let tun = try Self.openTun(device, inNamespace: namespace)
        do {
            try IPCommand.run(["-n", namespace, "link", "set", "lo", "up"])
            try IPCommand.run(["-n", namespace, "link", "set", device, "mtu", String(Self.mtu)])
            try IPCommand.run(["-n", namespace, "addr", "add", ipv4 + "/24", "dev", device])
            // nodad: the address is usable at once, without Duplicate Address Detection's second or two.
            try IPCommand.run(["-n", namespace, "addr", "add", ipv6 + "/64", "dev", device, "nodad"])
            try IPCommand.run(["-n", namespace, "link", "set", device, "up"])
        } catch {
            try? Syscall.close(tun)
            throw error
        }
        return tun
    }

    /// Opens the TUN device from inside the namespace: setns(2) into it, open /dev/net/tun and
    /// TUNSETIFF (the device is born in the namespace of the thread that opens it), setns(2)
    /// back. So no device of ours ever appears in the machine's own namespace, and a name there
    /// is never taken over.
    static func openTun(_ device: String, inNamespace namespace: String) throws -> Int32 {
        let home = try Syscall.openNamespace("/proc/thread-self/ns/net")
        defer { try? Syscall.close(home) }
        let target = try Syscall.openNamespace(namespacePath(namespace))
        defer { try? Syscall.close(target) }
        try Syscall.setNetworkNamespace(target)
        let tun: Int32
        do {
            tun = try Syscall.openTun(named: device)
        } catch {
            try? Syscall.setNetworkNamespace(home)
            throw error
        }
        do {
            try Syscall.setNetworkNamespace(home)
        } catch {
            try? Syscall.close(tun)
            throw error
        }
        return tun
    }
}
