import SocketCore
import Timeline

/// Two renderers fed the same stream: the terminal's format, and a second one (the JSON events
/// of the live view's hub). `output` is the first one's, which the capture loop flushes.
public final class TeeRenderer<First: Renderer, Second: Renderer>: Renderer {
    public let first: First
    public let second: Second

    public init(_ first: First, _ second: Second) {
        self.first = first
        self.second = second
    }

    public var output: OutputBuffer { first.output }

    public func packet(_ tracked: TrackedPacket) {
        first.packet(tracked)
        second.packet(tracked)
    }

    public func connectionEnded(_ summary: ConnectionSummary) {
        first.connectionEnded(summary)
        second.connectionEnded(summary)
    }

    public func event(_ event: TimelineEvent) {
        first.event(event)
        second.event(event)
    }

    public func idle(caughtUp: EpochTime) {
        first.idle(caughtUp: caughtUp)
        second.idle(caughtUp: caughtUp)
    }

    public var waitDescriptor: Int32? { first.waitDescriptor ?? second.waitDescriptor }

    public func finish(_ stats: CaptureStats) {
        first.finish(stats)
        second.finish(stats)
    }
}
