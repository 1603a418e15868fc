import SocketCore

/// How times are printed in text and ladder output.
public enum TimeFormat: Sendable {
    /// Local time of day with micro- or nanoseconds, as tcpdump (`21:30:32.123456`).
    case timeOfDay
    /// Seconds since the first packet (`--relative`).
    case relative
}

/// Writes a packet's time: time of day (SocketCore's formatter, the one `--trace` uses, its
/// `HH:MM:SS.` cached per second because localtime_r is not cheap) or relative.
final class TimePrinter {
    let format: TimeFormat
    /// Milliseconds only (`--brief`): the projector's lines have no room for the last digits.
    var milliseconds = false
    private var first: Timestamp?
    private var cachedSecond = Int.min
    private var cachedPrefix = ""

    init(format: TimeFormat) { self.format = format }

    func write(_ time: Timestamp, _ out: OutputBuffer) {
        let width = time.isNanosecond ? 9 : 6
        switch format {
        case .timeOfDay:
            if time.seconds != cachedSecond {
                cachedPrefix = Clock.timeOfDayPrefix(seconds: Int64(time.seconds))
                cachedSecond = time.seconds
            }
            out.string(cachedPrefix)
            writeFraction(time.fraction, width: width, out)
        case .relative:
            let base = first ?? time
            if first == nil { first = time }
            // Files are not always in time order (several capture queues): a packet older than
            // the first prints a negative offset, -0.000010, rather than a wrong positive one.
            let unit = time.isNanosecond ? 1_000_000_000 : 1_000_000
            var seconds = time.seconds &- base.seconds
            var fraction = time.fraction - base.fraction
            if seconds < 0 || (seconds == 0 && fraction < 0) {
                out.byte(45)   // "-"
                seconds = 0 &- seconds
                fraction = -fraction
            }
            if fraction < 0 { fraction += unit; seconds -= 1 }
            out.decimal(seconds)
            out.byte(46)
            writeFraction(fraction, width: width, out)
        }
    }

    /// The digits after the point: all of them, or the first three (cut, not rounded, as `date`).
    private func writeFraction(_ fraction: Int, width: Int, _ out: OutputBuffer) {
        if milliseconds {
            out.zeroPadded(fraction / (width == 9 ? 1_000_000 : 1_000), width: 3)
        } else {
            out.zeroPadded(fraction, width: width)
        }
    }
}
