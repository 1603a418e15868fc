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
