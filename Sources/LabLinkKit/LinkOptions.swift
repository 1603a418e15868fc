/// What the link does to packets, as the command line gave it. Times are nanoseconds, the rate is
/// bits per second, percentages are 0...100.
public struct LinkOptions: Sendable, Equatable {
    public var delay: Int64 = 0
    public var jitter: Int64 = 0
    public var loss: Double = 0
    public var rate: UInt64 = 0
    public var queue: Int = LinkOptions.defaultQueue
    public var reorder: Double = 0
    public var duplicate: Double = 0
    public var seed: UInt64 = LinkOptions.defaultSeed
    /// The `--drop` filters, in the order given.
    public var drops: [String] = []
    public var prefix: String = "st"

    /// 100 packets: at 10 Mbit/s, 120 ms of 1500-byte packets waiting (a router-sized buffer).
    public static let defaultQueue = 100
    /// The seed when none is given: runs without `--seed` lose the same packets too.
    public static let defaultSeed: UInt64 = 1

    public init() {}

    /// True when some impairment draws random numbers, so the seed matters.
    public var usesRandom: Bool { loss > 0 || jitter > 0 || reorder > 0 || duplicate > 0 }

    /// What the readiness line says in parentheses: `delay 50 ms each way, loss 1%, seed 7`.
    public var summary: String {
        var parts: [String] = []
        if delay > 0 { parts.append("delay \(LinkUnits.formatTime(delay)) each way") }
        if jitter > 0 { parts.append("jitter \(LinkUnits.formatTime(jitter))") }
        if loss > 0 { parts.append("loss \(LinkUnits.formatPercent(loss))") }
        if rate > 0 { parts.append("rate \(LinkUnits.formatRate(rate)), queue \(queue) packets") }
        if reorder > 0 { parts.append("reorder \(LinkUnits.formatPercent(reorder))") }
        if duplicate > 0 { parts.append("duplicate \(LinkUnits.formatPercent(duplicate))") }
        if !drops.isEmpty { parts.append(drops.count == 1 ? "1 drop rule" : "\(drops.count) drop rules") }
        if usesRandom { parts.append("seed \(seed)") }
        return parts.isEmpty ? "no impairment" : parts.joined(separator: ", ")
    }
}

/// The units of the command line: `50ms`, `10mbit`, `1%`, as tc and netem write them.
public enum LinkUnits {
    public struct BadValue: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// `50ms`, `1.5ms`, `200us` (or `200µs`), `2s`, `0`: nanoseconds. A unit is required, except for 0.
    public static func parseTime(_ text: String) throws(BadValue) -> Int64 {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("µs", 1e3), ("ns", 1), ("s", 1e9)]
        if text == "0" { return 0 }
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)), number >= 0, number * scale < 3.6e12 {
                return Int64((number * scale).rounded())
            }
            break
        }
        throw BadValue(description: "'\(text)' is not a time: write it like 50ms, 1.5ms, 200us or 2s (at most 1 hour)")
    }

    /// `10mbit`, `500kbit`, `1gbit`, `64000bit` (also `Mbit`): bits per second, more than 0.
    public static func parseRate(_ text: String) throws(BadValue) -> UInt64 {
        let lower = text.lowercased()
        let units: [(String, Double)] = [("kbit", 1e3), ("mbit", 1e6), ("gbit", 1e9), ("bit", 1)]
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            if let number = Double(lower.dropLast(suffix.count)), number > 0, number * scale >= 8,
               number * scale <= 100e9 {
                return UInt64((number * scale).rounded())
            }
            break
        }
        throw BadValue(description: "'\(text)' is not a rate: write it like 10mbit, 500kbit or 1gbit (8bit to 100gbit)")
    }

    /// `10%`, `10`, `0.5%`: a percentage from 0 to 100.
    public static func parsePercent(_ text: String) throws(BadValue) -> Double {
        let digits = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Double(digits), value >= 0, value <= 100 else {
            throw BadValue(description: "'\(text)' is not a percentage from 0% to 100%")
        }
        return value
    }

    /// The names made from a prefix (`st-client`, `st-c`) must be valid interface names (at most
    /// 15 bytes), so the prefix is at most 12 letters, digits or `-`, starting with a letter.
    public static func checkPrefix(_ prefix: String) throws(BadValue) {
        let allowed = prefix.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard !prefix.isEmpty, prefix.utf8.count <= 12, allowed, let first = prefix.utf8.first, first >= 0x61 else {
            throw BadValue(description: "'\(prefix)' cannot be a prefix: 1 to 12 lower-case letters, digits or '-', starting with a letter")
        }
    }

    /// `50 ms`, `1.5 ms`, `200 µs`, `2 s`.
    public static func formatTime(_ nanoseconds: Int64) -> String {
        if nanoseconds >= 1_000_000_000 && nanoseconds % 1_000_000 == 0 && nanoseconds % 100_000_000 == 0 {
            return trimmed(Double(nanoseconds) / 1e9) + " s"
        }
        if nanoseconds >= 1_000_000 { return trimmed(Double(nanoseconds) / 1e6) + " ms" }
        return trimmed(Double(nanoseconds) / 1e3) + " µs"
    }

    /// `10 Mbit/s`, `500 kbit/s`.
    public static func formatRate(_ bitsPerSecond: UInt64) -> String {
        let value = Double(bitsPerSecond)
        if value >= 1e9 { return trimmed(value / 1e9) + " Gbit/s" }
        if value >= 1e6 { return trimmed(value / 1e6) + " Mbit/s" }
        if value >= 1e3 { return trimmed(value / 1e3) + " kbit/s" }
        return trimmed(value) + " bit/s"
    }

    /// `1%`, `0.5%`.
    public static func formatPercent(_ percent: Double) -> String { trimmed(percent) + "%" }

    /// At most three decimals, no trailing zeros: 50, 1.5, 0.125.
    static func trimmed(_ value: Double) -> String {
        let thousandths = Int64((value * 1000).rounded())
        var text = String(thousandths / 1000)
        var fraction = thousandths % 1000
        if fraction != 0 {
            var digits = String(fraction)
            digits = String(repeating: "0", count: 3 - digits.count) + digits
            while digits.hasSuffix("0") { digits.removeLast() }
            text += "." + digits
            fraction = 0
        }
        return text
    }
}
