import SocketCore
import Timeline

/// What a ```` ```timeline ```` block shows and what ```` ```expect order ```` checks: events from
/// several labels on one timeline, by epoch time.
///
/// Shown, a call that contains other events is two lines, strace style:
///
///     [client] 20:04:58.419600 connect(fd 3, 127.0.0.1:38633) ...
///     [watch] 20:04:58.419630 #1 127.0.0.1:44806 → 127.0.0.1:38633 [SYN] ...
///     ...
///     [client] 20:04:58.419912 ... connect() -> 0 <0.000312>
///
/// For `expect order` every call is two events, its start and its return, whether it contains
/// anything or not; they are written without the time: `[client] connect(fd 3, 127.0.0.1:38633) ...`
/// and `[client] ... connect() -> 0`.
struct MergedTimeline {
    /// One event for `expect order`: its text without the time, and the line to show in a report.
    struct Item: Equatable {
        var text: String
        var shown: String
    }

    let events: [TimelineEvent]
    /// The lines shown, in order.
    private(set) var lines: [String] = []
    /// Every event, every call split in two, in order.
    private(set) var items: [Item] = []

    init(_ events: [TimelineEvent]) {
        self.events = events
        for entry in TimelineMerge.merge(events) {
            let event = events[entry.event]
            // A `link-drop` (lab-link lost a packet) has no label or text of its own: `[link] ✗ ...`.
            let label = "[\(event.label ?? (event.type == "link-drop" ? "link" : "?"))] "
            let text = event.linkDropText ?? event.string("text") ?? event.type
            let stamp = Clock.timeOfDay(entry.time) + " "
            let span = event.duration.map { " " + Clock.spanSuffix($0) } ?? ""
            switch entry.kind {
            case .point where event.duration != nil:
                lines.append(label + stamp + text + span)
                items.append(Item(text: label + TimelineMerge.startText(text), shown: label + stamp + TimelineMerge.startText(text)))
                let end = Clock.timeOfDay(event.end) + " "
                items.append(Item(text: label + TimelineMerge.returnText(text), shown: label + end + TimelineMerge.returnText(text) + span))
            case .point:
                lines.append(label + stamp + text)
                items.append(Item(text: label + text, shown: label + stamp + text))
            case .callStart:
                let start = TimelineMerge.startText(text)
                lines.append(label + stamp + start)
                items.append(Item(text: label + start, shown: label + stamp + start))
            case .callReturn:
                let end = TimelineMerge.returnText(text)
                lines.append(label + stamp + end + span)
                items.append(Item(text: label + end, shown: label + stamp + end + span))
            }
        }
    }
}
