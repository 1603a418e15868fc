/// One of the two ends of a TCP connection: the client, which called connect(), or the server,
/// whose listening socket accepted it. The tracker, the ladder and the page all speak of a
/// connection's ends this way.
public enum ConnectionSide: String, Sendable, Hashable {
    case client
    case server
}
