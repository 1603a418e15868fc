extension Trace {
    /// Bytes as strace shows a buffer: `"server Connected by 127.0.0.1:44806\n"`.
    ///
    /// Printable ASCII stays itself; `"` and `\` are escaped; `\t \n \v \f \r` keep their C names;
    /// any other byte is an octal escape, three digits when an octal digit follows so the escape
    /// cannot swallow it (`\0` then `1` is `\0001`). Past `limit` bytes the string is cut and
    /// followed by `...`, as `strace -s` does.
    public static func quoted(_ bytes: some Collection<UInt8>, limit: Int = 4096) -> String {
        var out = "\""
        out.reserveCapacity(min(bytes.count, limit) + 2)
        let shown = Array(bytes.prefix(limit))
        for (index, byte) in shown.enumerated() {
            switch byte {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x09: out += "\\t"
            case 0x0A: out += "\\n"
            case 0x0B: out += "\\v"
            case 0x0C: out += "\\f"
            case 0x0D: out += "\\r"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let next = index + 1 < shown.count ? shown[index + 1] : 0
                let octal = String(byte, radix: 8)
                let padded = (0x30...0x37).contains(next) ? String(repeating: "0", count: 3 - octal.count) + octal : octal
                out += "\\" + padded
            }
        }
        out += "\""
        return bytes.count > limit ? out + "..." : out
    }
}
