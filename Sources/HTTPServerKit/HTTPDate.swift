@preconcurrency import Glibc
import SocketCore

/// Dates as HTTP writes them (`Date`, `Last-Modified`, `If-Modified-Since`) and as Python's log
/// line writes them.
///
///     Date: Wed, 21 Oct 2015 07:28:00 GMT          (RFC 9110 "IMF-fixdate", always GMT)
///     127.0.0.1 - - [21/Oct/2015 09:28:00] ...      (the log: local time)
public enum HTTPDate {
    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Wed, 21 Oct 2015 07:28:00 GMT` for an epoch time (Python's `email.utils.formatdate(usegmt=True)`).
    public static func string(from seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        // Byte by byte: a file's Last-Modified is formatted on every request for it.
        var text: [UInt8] = []
        text.reserveCapacity(29)
        text.append(contentsOf: weekdays[Int(parts.tm_wday)].utf8)
        text.append(contentsOf: ", ".utf8)
        appendTwo(parts.tm_mday, to: &text, then: " ")
        appendMonthYearAndTime(parts, to: &text, separator: " ")
        text.append(contentsOf: " GMT".utf8)
        return String(decoding: text, as: UTF8.self)
    }

    /// `21/Oct/2015 09:28:00` in local time (Python's `log_date_time_string`).
    public static func logString(from seconds: Int) -> String {
        var t = time_t(seconds)
        var parts = tm()
        localtime_r(&t, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(20)
        appendTwo(parts.tm_mday, to: &text, then: "/")
        appendMonthYearAndTime(parts, to: &text, separator: "/")
        return String(decoding: text, as: UTF8.self)
    }

    /// The current second's `Date` header value and log time, remembered for the rest of that
    /// second: formatting a date costs more than sending a small file. Each connection's handler
    /// keeps its own `CurrentSecond`, so threads share nothing and never wait on a lock. (Not a
    /// clock: SocketCore's `Clock` reads the time; this only remembers how it was written.)
    public struct CurrentSecond {
        private var second = -1
        private var header = ""
        private var log = ""

        public init() {}

        public mutating func now() -> (header: String, log: String) {
            let current = Int(Clock.now().seconds)
            if current != second {
                (second, header, log) = (current, HTTPDate.string(from: current), HTTPDate.logString(from: current))
            }
            return (header, log)
        }
    }

    /// Reads an HTTP date in any of the three forms RFC 9110 says a recipient must accept:
    ///
    ///     Sun, 06 Nov 1994 08:49:37 GMT     IMF-fixdate
    ///     Sunday, 06-Nov-94 08:49:37 GMT    obsolete RFC 850
    ///     Sun Nov  6 08:49:37 1994          asctime(), no zone: taken as UTC
    ///
    /// Returns epoch seconds, or nil when the text is not a date. Like Python's
    /// `parsedate_to_datetime` use in http.server, a date with a zone other than UTC (`+0200`,
    /// `EST`) gives nil: Python ignores such an If-Modified-Since.
    public static func parse(_ text: String) -> Int? {
        var tokens: [Substring] = []
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }) {
            // RFC 850 writes the date as one word: 06-Nov-94.
            if word.contains("-") && !word.hasPrefix("-") && word.first?.isNumber == true {
                tokens.append(contentsOf: word.split(separator: "-"))
            } else {
                tokens.append(word)
            }
        }
        var day: Int?, month: Int?, year: Int?, clock: (Int, Int, Int)?, offset: Int?
        for token in tokens {
            if let index = months.firstIndex(where: { token.lowercased().hasPrefix($0.lowercased()) }), month == nil,
               token.count >= 3, token.allSatisfy(\.isLetter) {
                month = index + 1
            } else if token.contains(":") {
                let fields = token.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
                guard fields.count == 2 || fields.count == 3, !fields.contains(where: { $0 == nil }) else { return nil }
                clock = (fields[0]!, fields[1]!, fields.count == 3 ? fields[2]! : 0)
            } else if let number = Int(token), !token.hasPrefix("+"), !token.hasPrefix("-") {
                if day == nil && number <= 31 && token.count <= 2 { day = number }
                else if year == nil { year = number }
                else { return nil }
            } else if token.hasPrefix("+") || token.hasPrefix("-") {
                guard token.count == 5, let value = Int(token.dropFirst()) else { return nil }
                let minutes = (value / 100) * 60 + value % 100
                offset = token.hasPrefix("-") && minutes == 0 ? nil : (token.hasPrefix("-") ? -minutes : minutes)
            } else if let zone = zones[token.uppercased()] {
                offset = zone
            } else if weekdayNames.contains(where: { token.lowercased().hasPrefix($0) }) {
                continue
            } else {
                continue   // an unknown zone name: Python treats the date as having no zone
            }
        }
        guard let day, let month, var year, let clock else { return nil }
        if year < 100 { year += year > 68 ? 1900 : 2000 }
        // The ranges Python's `datetime` accepts; it rejects anything else (a year 10000, the
        // 30th of February, a leap second) with ValueError, and http.server then ignores the
        // header. Bounding the year also keeps the arithmetic below from overflowing.
        guard (1...9999).contains(year), (1...daysIn(month: month, year: year)).contains(day),
              (0...23).contains(clock.0), (0...59).contains(clock.1), (0...59).contains(clock.2) else { return nil }
        if let offset, offset != 0 { return nil }
        return daysFromCivil(year: year, month: month, day: day) * 86_400
            + clock.0 * 3600 + clock.1 * 60 + clock.2
    }

    /// 28 to 31, with the Gregorian leap years.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static let weekdayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    private static let zones: [String: Int] = [
        "UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
        "AST": -240, "ADT": -180, "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
        "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    ]

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// Appends `Oct 2015 07:28:00` (separator " ") or `Oct/2015 07:28:00` (separator "/"): the
    /// part both forms share.
    private static func appendMonthYearAndTime(_ parts: tm, to text: inout [UInt8], separator: Unicode.Scalar) {
        text.append(contentsOf: months[Int(parts.tm_mon)].utf8)
        text.append(UInt8(ascii: separator))
        text.append(contentsOf: String(Int(parts.tm_year) + 1900).utf8)
        text.append(UInt8(ascii: " "))
        appendTwo(parts.tm_hour, to: &text, then: ":")
        appendTwo(parts.tm_min, to: &text, then: ":")
        appendTwo(parts.tm_sec, to: &text, then: nil)
    }

    /// Appends a two-digit field (`07`) and the separator after it, if any.
    private static func appendTwo(_ value: Int32, to text: inout [UInt8], then separator: Unicode.Scalar?) {
        text.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value / 10 % 10))
        text.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10))
        if let separator { text.append(UInt8(ascii: separator)) }
    }
}
