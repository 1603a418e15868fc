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
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .number(let n): out += n
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, (key, value)) in fields.enumerated() {
                if index > 0 { out += "," }
                JSONValue.writeString(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 §7).
    ///
    /// The characters to escape are all ASCII, so the UTF-8 bytes are scanned and the runs between
    /// them appended whole (a traced program makes tens of thousands of lines a second; one
    /// append per character cost more than the rest of the line).
    static func writeString(_ text: String, to out: inout String) {
        out += "\""
        let utf8 = text.utf8
        var runStart = utf8.startIndex
        var index = runStart
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out += text[runStart..<index]
                switch byte {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                default:
                    let hex = String(byte, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
                runStart = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        out += text[runStart..<utf8.endIndex]
        out += "\""
    }
}
