/// URL percent-encoding on raw bytes: `%41` is `A`, `%FF` is the byte 0xFF.
///
/// Working on bytes, not text, is what lets a file whose name is not valid UTF-8 appear in a
/// listing (`href="caf%E9.txt"`) and be fetched back by that link.
public enum PercentEncoding {
    /// Python's `urllib.parse.unquote` to bytes: every `%XX` with two hex digits becomes one byte;
    /// anything else (a lone `%`, `%zz`) stays as it is.
    public static func decode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                if first != bytes.endIndex {
                    let second = bytes.index(after: first)
                    if second != bytes.endIndex, let high = hexValue(bytes[first]), let low = hexValue(bytes[second]) {
                        output.append(high << 4 | low)
                        index = bytes.index(after: second)
                        continue
                    }
                }
            }
            output.append(byte)
            index = bytes.index(after: index)
        }
        return output
    }

    /// Python's `urllib.parse.quote(name)` on bytes: letters, digits, `_.-~` and `/` stay; every
    /// other byte becomes `%XX` in upper-case hex.
    public static func encode(_ bytes: some Sequence<UInt8>, into output: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in bytes {
            if isUnreserved(byte) || byte == UInt8(ascii: "/") {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            }
        }
    }

    /// True when a path carries something no file name may hold: a NUL byte (raw or `%00`), or
    /// an encoded `/` (`%2F`), which would make one URL segment into two directory levels.
    public static func hasForbiddenBytes(_ bytes: some Collection<UInt8>) -> Bool {
        var previous2: UInt8 = 0, previous1: UInt8 = 0
        for byte in bytes {
            if byte == 0 { return true }
            if previous2 == UInt8(ascii: "%") {
                if previous1 == UInt8(ascii: "0") && byte == UInt8(ascii: "0") { return true }
                if previous1 == UInt8(ascii: "2") && (byte == UInt8(ascii: "F") || byte == UInt8(ascii: "f")) {
                    return true
                }
            }
            previous2 = previous1
            previous1 = byte
        }
        return false
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."),
             UInt8(ascii: "-"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
