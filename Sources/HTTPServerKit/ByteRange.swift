/// The `Range` request header, single range only (RFC 9110 §14): what lets a client resume a
/// download or a video player seek.
///
///     Range: bytes=0-499      the first 500 bytes
///     Range: bytes=500-       from byte 500 to the end
///     Range: bytes=-500       the last 500 bytes
public enum ByteRange: Equatable, Sendable {
    /// Send these bytes with 206 Partial Content.
    case satisfiable(ClosedRange<Int>)
    /// No byte of the file is in the range: 416, with `Content-Range: bytes */size`.
    case unsatisfiable
    /// Not a single byte range we understand (several ranges, another unit, bad syntax):
    /// the header is ignored and the whole file is sent with 200, which RFC 9110 allows.
    case ignored

    public static func parse(_ header: String, size: Int) -> ByteRange {
        let text = header.trimmingSpaces
        guard text.lowercased().hasPrefix("bytes=") else { return .ignored }
        let spec = text.dropFirst(6).trimmingSpaces
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .ignored }
        let first = spec[..<dash].trimmingSpaces, last = spec[spec.index(after: dash)...].trimmingSpaces
        guard first.allSatisfy(\.isASCIIDigit), last.allSatisfy(\.isASCIIDigit), !(first.isEmpty && last.isEmpty) else {
            return .ignored
        }
        if first.isEmpty {
            // A suffix: the last N bytes (all of them when N is longer than the file, even
            // longer than Int can hold).
            let count = Int(last) ?? Int.max
            if count == 0 || size == 0 { return .unsatisfiable }
            return .satisfiable(max(0, size - count)...(size - 1))
        }
        guard let start = Int(first) else { return .unsatisfiable }   // more digits than Int: past any file
        var end = size - 1
        if !last.isEmpty {
            guard let value = Int(last) else { return start < size ? .satisfiable(start...(size - 1)) : .unsatisfiable }
            if value < start { return .ignored }
            end = min(value, size - 1)
        }
        return start < size ? .satisfiable(start...end) : .unsatisfiable
    }
}

/// What a `Range` header selects of a file, one range or several.
public enum ByteRangeSelection: Equatable, Sendable {
    /// Send the whole file with 200.
    case whole
    /// 416, with `Content-Range: bytes */size`.
    case unsatisfiable
    /// 206 with these ranges, in the client's order: one as a plain body, several as
    /// `multipart/byteranges`.
    case ranges([Range<Int>])

    /// A header with one range follows `ByteRange.parse`. Several ranges (`bytes=0-9,20-29`)
    /// follow nginx's rules: a syntax error anywhere gets 416; ranges entirely past the end are
    /// dropped (416 if none is left); and if the ranges add up to more than the file (overlaps,
    /// repeats: a way to make a server send a file many times over), the header is ignored and
    /// the whole file is sent once.
    public static func parse(_ header: String, size: Int) -> ByteRangeSelection {
        let text = header.trimmingSpaces
        guard text.lowercased().hasPrefix("bytes=") else { return .whole }
        guard text.contains(",") else {
            switch ByteRange.parse(header, size: size) {
            case .satisfiable(let range): return .ranges([range.lowerBound..<(range.upperBound + 1)])
            case .unsatisfiable: return .unsatisfiable
            case .ignored: return .whole
            }
        }
        var scanner = RangeScanner(Array(text.utf8.dropFirst(6)))
        var ranges: [Range<Int>] = []
        var total = 0
        repeat {
            guard let (first, last) = scanner.nextSpec() else { return .unsatisfiable }
            var start: Int, end: Int   // end is exclusive
            switch (first, last) {
            case let (first?, last?): (start, end) = (first, last >= size ? size : last + 1)
            case let (first?, nil): (start, end) = (first, size)
            case let (nil, count?): (start, end) = (count < size ? size - count : 0, size)
            case (nil, nil): return .unsatisfiable
            }
            if start < end {
                ranges.append(start..<end)
                total += end - start
            } else if start == 0 {
                return .whole   // an empty range at 0: nothing sensible to send but the file
            }
        } while scanner.takeComma()
        guard scanner.atEnd else { return .unsatisfiable }
        if ranges.isEmpty { return .unsatisfiable }
        return total > size ? .whole : .ranges(ranges)
    }
}

/// Reads `first-last` specs separated by commas, spaces allowed around each part.
private struct RangeScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    /// One spec: `5-9` (5, 9), `5-` (5, nil), `-3` (nil, 3); nil on a syntax error or a number
    /// past Int's range.
    mutating func nextSpec() -> (Int?, Int?)? {
        skipSpaces()
        var first: Int?
        if peek != UInt8(ascii: "-") {
            guard let number = number() else { return nil }
            first = number
            skipSpaces()
        }
        guard peek == UInt8(ascii: "-") else { return nil }
        index += 1
        skipSpaces()
        if first != nil && (atEnd || peek == UInt8(ascii: ",")) { return (first, nil) }
        guard let last = number() else { return nil }
        skipSpaces()
        guard atEnd || peek == UInt8(ascii: ",") else { return nil }
        return (first, last)
    }

    mutating func takeComma() -> Bool {
        guard peek == UInt8(ascii: ",") else { return false }
        index += 1
        return true
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpaces() {
        while peek == UInt8(ascii: " ") { index += 1 }
    }

    private mutating func number() -> Int? {
        var value = 0
        var digits = 0
        while let byte = peek, byte >= 0x30 && byte <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(byte - 0x30))
            if overflow1 || overflow2 { return nil }
            value = sum
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }
}
