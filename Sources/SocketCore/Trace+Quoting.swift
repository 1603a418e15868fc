extension Trace {
    /// Bytes as strace shows a buffer: `"server Connected by 127.0.0.1:44806\n"`.
    ///
    /// Printable ASCII stays itself; `"` and `\` are escaped; `\t \n \v \f \r` keep their C names;
    /// any other byte is an octal escape, three digits when an octal digit follows so the escape
    /// cannot swallow it (`\0` then `1` is `\0001`). Past `limit` bytes the string is cut and
    /// followed by `...`, as `strace -s` does.
    public static func quoted(_ bytes: some Collection<UInt8>, limit: Int = 4096) -> String {
        // Built as UTF-8 bytes and made a String once at the end: a traced program's every send
        // and receive goes through here, and appending to a String character by character costs
        // several times more.
        let shown = Array(bytes.prefix(limit))
        var out: [UInt8] = []
        out.reserveCapacity(shown.count * 4 + 5)
        out.append(UInt8(ascii: "\""))
        func escaped(_ letter: Unicode.Scalar) { out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: letter)) }
        for (index, byte) in shown.enumerated() {
            switch byte {
            case 0x22: escaped("\"")
            case 0x5C: escaped("\\")
            case 0x09: escaped("t")
            case 0x0A: escaped("n")
            case 0x0B: escaped("v")
            case 0x0C: escaped("f")
            case 0x0D: escaped("r")
            case 0x20..<0x7F: out.append(byte)
            default:
                let next = index + 1 < shown.count ? shown[index + 1] : 0
                let digits = byte >= 0o100 ? 3 : byte >= 0o10 ? 2 : 1
                let width = (0x30...0x37).contains(next) ? 3 : digits
                out.append(UInt8(ascii: "\\"))
                for place in stride(from: width - 1, through: 0, by: -1) {
                    out.append(UInt8(ascii: "0") + ((byte >> (3 * place)) & 7))
                }
            }
        }
        out.append(UInt8(ascii: "\""))
        if bytes.count > limit { out.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: "."), UInt8(ascii: ".")]) }
        return String(decoding: out, as: UTF8.self)
    }
}
