/// A strict reader of one JSON text (RFC 8259), for the events files.
///
/// Hand-written rather than Foundation's: the tools that read events (handshake-watch) do not
/// link Foundation, and a reader this small can be fuzzed whole. It never reads past its input,
/// refuses nesting deeper than `maxDepth`, and reports the byte offset of the first error.
public struct JSONReader {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset + 1)" }
    }

    public static let maxDepth = 32

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Parses `text` as one JSON value with nothing but white space after it.
    public static func parse(_ text: some StringProtocol) throws(Failure) -> JSONValue {
        var reader = JSONReader(Array(text.utf8))
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.position == reader.bytes.count else { throw reader.failure("text after the value") }
        return value
    }

    private func failure(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }

    private var next: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipSpace() {
        while let byte = next, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth)") }
        skipSpace()
        guard let byte = next else { throw failure("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - position >= expected.count,
              bytes[position..<position + expected.count].elementsEqual(expected) else {
            throw failure("unknown word")
        }
        position += expected.count
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        position += 1
        var fields: [(String, JSONValue)] = []
        skipSpace()
        if next == UInt8(ascii: "}") { position += 1; return .object(fields) }
        while true {
            skipSpace()
            guard next == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try string()
            skipSpace()
            guard next == UInt8(ascii: ":") else { throw failure("expected ':'") }
            position += 1
            fields.append((key, try value(depth: depth + 1)))
            skipSpace()
            switch next {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(fields)
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        position += 1
        var items: [JSONValue] = []
        skipSpace()
        if next == UInt8(ascii: "]") { position += 1; return .array(items) }
        while true {
            items.append(try value(depth: depth + 1))
            skipSpace()
            switch next {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(items)
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as text.
    private mutating func number() throws(Failure) -> String {
        let start = position
        if next == UInt8(ascii: "-") { position += 1 }
        guard let first = next, isDigit(first) else { throw failure("unexpected character") }
        position += 1
        if first != UInt8(ascii: "0") { digits() }
        if next == UInt8(ascii: ".") {
            position += 1
            guard let byte = next, isDigit(byte) else { throw failure("digit expected after '.'") }
            digits()
        }
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            position += 1
            if next == UInt8(ascii: "+") || next == UInt8(ascii: "-") { position += 1 }
            guard let byte = next, isDigit(byte) else { throw failure("digit expected in exponent") }
            digits()
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func digits() { while let byte = next, isDigit(byte) { position += 1 } }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private mutating func string() throws(Failure) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var runStart = position
        while true {
            guard let byte = next else { throw failure("unterminated string") }
            if byte == UInt8(ascii: "\"") {
                scalars.append(contentsOf: try utf8(runStart..<position))
                position += 1
                return String(scalars)
            }
            if byte < 0x20 { throw failure("control character in string") }
            if byte == UInt8(ascii: "\\") {
                scalars.append(contentsOf: try utf8(runStart..<position))
                position += 1
                scalars.append(try escape())
                runStart = position
            } else {
                position += 1
            }
        }
    }

    private func utf8(_ range: Range<Int>) throws(Failure) -> String.UnicodeScalarView {
        guard let text = String(validating: bytes[range], as: UTF8.self) else { throw failure("invalid UTF-8") }
        return text.unicodeScalars
    }

    private mutating func escape() throws(Failure) -> Unicode.Scalar {
        guard let byte = next else { throw failure("unterminated escape") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try hex4()
            if (0xD800..<0xDC00).contains(high) {
                guard next == UInt8(ascii: "\\") else { throw failure("lone surrogate") }
                position += 1
                guard next == UInt8(ascii: "u") else { throw failure("lone surrogate") }
                position += 1
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("lone surrogate") }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))!
            }
            guard let scalar = Unicode.Scalar(high) else { throw failure("lone surrogate") }
            return scalar
        default: throw failure("unknown escape")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - position >= 4 else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw failure("bad hex digit")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
