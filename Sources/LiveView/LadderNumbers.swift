/// Numbers as the diagram writes them: fixed decimals, no locale, no Foundation, the same on
/// every machine (the golden files depend on it).
enum LadderNumbers {
    /// `0.024 ms`, `1.017 s`.
    static func duration(_ seconds: Double) -> String {
        seconds < 1 ? fixed(seconds * 1000, 3) + " ms" : fixed(seconds, 3) + " s"
    }

    /// The time beside an arrow, since the connection's first packet: `0.012 ms`, `3.500327 s`.
    static func elapsed(_ seconds: Double) -> String {
        seconds < 1 ? fixed(seconds * 1000, 3) + " ms" : fixed(seconds, 6) + " s"
    }

    /// `value` with `decimals` digits after the point. Times come from capture files, where any
    /// difference is possible: a value too large for an Int is written as Swift prints it.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        guard let whole = Int(exactly: (value * scale).rounded()), let unit = Int(exactly: scale) else {
            return "\(value)"
        }
        let integer = whole / unit, fraction = String(abs(whole % unit))
        let sign = whole < 0 && integer == 0 ? "-" : ""
        if decimals == 0 { return "\(sign)\(integer)" }
        return "\(sign)\(integer)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}
