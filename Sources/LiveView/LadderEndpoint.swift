/// One end of a connection: an address as text and a port, written as handshake-watch writes it.
public struct LadderEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var address: String
    public var port: Int

    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }

    /// `127.0.0.1:5000`, or `[::1]:5000`: brackets keep an IPv6 address apart from its port.
    public var description: String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
