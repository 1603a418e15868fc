import SocketCore
import Timeline

/// What one direction of the link did, printed when it stops:
///
///     c→s: forwarded 2113 packets (3.1 MB), dropped 3 (rule 1, loss 2, queue 0), queue peak 17, mean added delay 50.02 ms
public struct LinkStats: Sendable, Equatable {
    public var forwarded = 0
    public var bytes = 0
    public var duplicated = 0
    public var droppedByRule = 0
    public var droppedByLoss = 0
    public var droppedByQueue = 0
    /// Packets the receiving namespace refused (write(2) failed: its device was down, say).
    public var unwritten = 0
    public var queuePeak = 0
    /// Sum over forwarded packets of (written - read), in nanoseconds: the delay the link added.
    public var addedDelay: UInt64 = 0

    public init() {}

    public var dropped: Int { droppedByRule + droppedByLoss + droppedByQueue }

    /// The mean delay the link added to a forwarded packet, in milliseconds.
    public var meanAddedDelayMilliseconds: Double {
        forwarded == 0 ? 0 : Double(addedDelay) / Double(forwarded) / 1e6
    }

    mutating func count(_ reason: TimelineEvent.LinkDropReason) {
        switch reason {
        case .rule: droppedByRule += 1
        case .loss: droppedByLoss += 1
        case .queue: droppedByQueue += 1
        }
    }

    /// The text line.
    public func line(_ direction: LinkDirection.Name) -> String {
        var text = "\(direction.rawValue): forwarded \(forwarded) \(forwarded == 1 ? "packet" : "packets") (\(Self.size(bytes)))"
        if duplicated > 0 { text += " + \(duplicated) duplicates" }
        text += ", dropped \(dropped) (rule \(droppedByRule), loss \(droppedByLoss), queue \(droppedByQueue))"
        if unwritten > 0 { text += ", \(unwritten) refused by the receiving side" }
        text += ", queue peak \(queuePeak), mean added delay \(Self.milliseconds(meanAddedDelayMilliseconds)) ms"
        return text
    }

    /// The `link-stats` event (EVENTS.md), for `--format json`.
    public func event(_ direction: LinkDirection.Name, time: EpochTime) -> TimelineEvent {
        TimelineEvent(type: "link-stats", time: time, fields: [
            ("dir", .string(direction.rawValue)), ("forwarded", .integer(forwarded)), ("bytes", .integer(bytes)),
            ("duplicated", .integer(duplicated)), ("dropped_rule", .integer(droppedByRule)),
            ("dropped_loss", .integer(droppedByLoss)), ("dropped_queue", .integer(droppedByQueue)),
            ("queue_peak", .integer(queuePeak)),
            ("mean_added_delay_ms", .fixed(meanAddedDelayMilliseconds, decimals: 3)),
        ])
    }

    static func size(_ bytes: Int) -> String {
        if bytes >= 1_000_000 { return LinkUnits.trimmed((Double(bytes) / 1e5).rounded() / 10) + " MB" }
        if bytes >= 1_000 { return LinkUnits.trimmed((Double(bytes) / 1e2).rounded() / 10) + " kB" }
        return "\(bytes) bytes"
    }

    static func milliseconds(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let fraction = String(hundredths % 100)
        return String(hundredths / 100) + "." + (fraction.count == 1 ? "0" : "") + fraction
    }
}
