import KernelKit
import SocketCore

/// How a kernel event looks in the ladder: a state change written in its end's side column, as
/// textbooks draw the state machine beside the arrows; other events as a `[kernel]` line.
enum KernelEventLine {
    /// Characters between the ladder's two bars (LadderRenderer.width).
    static let width = 46

    /// `text`: the event's `[kernel]` line (`KernelLines`: a congestion window's change from
    /// `ProbeNarration`), for events not drawn in a column.
    static func ladder(_ event: KernelEvent, text: String, client: Bool, origin: EpochTime?) -> String {
        guard let id = event.connection, let origin else {
            return Clock.timeOfDay(event.time) + " " + text   // not one connection's: no column
        }
        let stamp = fixed3(Double(event.time.microseconds - origin.microseconds) / 1000)
        let prefix = "#\(id) " + String(repeating: " ", count: max(0, 9 - stamp.count)) + stamp + " ms "
        guard case .state(_, let to, _) = event.kind else { return prefix + text }
        let name = "[\(to)]"
        let padding = String(repeating: " ", count: max(1, width + 1 - name.count))
        return client ? prefix + "| " + name + padding + "|" : prefix + "|" + padding + name + " |"
    }

    static func hostPort(_ address: String, _ port: Int) -> String {
        address.utf8.contains(0x3A) ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    private static func fixed3(_ value: Double) -> String {
        let thousandths = Int64((value * 1000).rounded())
        let sign = thousandths < 0 ? "-" : ""
        let magnitude = abs(thousandths)
        let fraction = String(magnitude % 1000)
        return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
