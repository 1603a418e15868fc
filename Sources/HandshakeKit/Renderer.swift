import SocketCore
import Timeline

/// Turns tracked packets and connection summaries into output. One renderer per `--format`.
public protocol Renderer: AnyObject {
    func packet(_ tracked: TrackedPacket)
    func connectionEnded(_ summary: ConnectionSummary)
    func finish(_ stats: CaptureStats)
    /// A recorded event (a system call, a line of output) from the capture's sidecar, in its
    /// place in time among the packets.
    func event(_ event: TimelineEvent)
    /// The buffer the renderer writes into (to flush it).
    var output: OutputBuffer { get }
    /// The capture ring is empty: a moment to show other sources' events (the kernel's).
    /// `caughtUp`: a look at the ring that began then found nothing, so every packet stamped
    /// before it has been handed over.
    func idle(caughtUp: EpochTime)
    /// Another descriptor to wait on beside libpcap's while idle (the kernel's trace_pipe).
    var waitDescriptor: Int32? { get }
}

extension Renderer {
    public func idle(caughtUp: EpochTime) {}
    public var waitDescriptor: Int32? { nil }
}

extension Renderer {
    /// Formats that do not draw recorded events (the ladder) skip them.
    public func event(_ event: TimelineEvent) {}
}
