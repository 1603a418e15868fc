/// Turns tracked packets and connection summaries into output. One renderer per `--format`.
public protocol Renderer: AnyObject {
    func packet(_ tracked: TrackedPacket)
    func connectionEnded(_ summary: ConnectionSummary)
    func finish(_ stats: CaptureStats)
    /// The buffer the renderer writes into (to flush it).
    var output: OutputBuffer { get }
}
