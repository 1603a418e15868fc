extension SocketAddress {
    /// `host:port` as the user typed the host, with brackets around an IPv6 literal
    /// (`[::1]:5000`): for messages about an address that is not bound or connected yet,
    /// such as `cannot listen on [::1]:80: ...`.
    public static func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
