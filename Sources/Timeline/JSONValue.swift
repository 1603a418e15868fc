/// A JSON value, as the timeline's JSON Lines hold them.
///
/// Numbers keep the text they were written with (`1795642942.605030`), so a time or a sequence
/// number read back is exactly the one written: no trip through a Double.
public enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// A Double with a fixed number of decimals (`0.000312`), never exponent notation.
    public static func fixed(_ value: Double, decimals: Int) -> JSONValue {
        guard value.isFinite else { return .null }
        let scale = (0..<decimals).reduce(1.0) { value, _ in value * 10 }
        let scaled = (abs(value) * scale).rounded()
        let whole = Int64(scaled / scale)
        let fraction = Int64(scaled - Double(whole) * scale)
        let digits = String(fraction)
        let padded = String(repeating: "0", count: max(0, decimals - digits.count)) + digits
        return .number((value < 0 && scaled != 0 ? "-" : "") + String(whole) + (decimals > 0 ? "." + padded : ""))
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    public var intValue: Int? { if case .number(let n) = self { return Int(n) }; return nil }

    public var doubleValue: Double? { if case .number(let n) = self { return Double(n) }; return nil }

    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.null, .null): return true
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value as compact JSON text.
    public var json: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the JSON text as UTF-8 bytes. Bytes, not a String: a traced program makes tens of
    /// thousands of lines a second, and appending to a String costs several times more.
    func write(to out: inout [UInt8]) {
        switch self {
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 §7).
    /// All of them are ASCII, so the UTF-8 bytes are escaped one by one and every other byte
    /// (the parts of é or →) is copied as it is.
    static func writeString(_ text: String, to out: inout [UInt8]) {
        func escaped(_ letter: Unicode.Scalar) { out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: letter)) }
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): escaped("\"")
            case UInt8(ascii: "\\"): escaped("\\")
            case UInt8(ascii: "\n"): escaped("n")
            case UInt8(ascii: "\r"): escaped("r")
            case UInt8(ascii: "\t"): escaped("t")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
