/// The header fields of a request, in arrival order, looked up without regard to case
/// (`headers["content-length"]` finds `Content-Length`), as Python's `self.headers` does.
public struct HTTPHeaders: Sendable {
    /// Every field as received; values with surrounding white space removed.
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    public var count: Int { fields.count }

    /// The value of the first field called `name`, or nil.
    public subscript(name: String) -> String? {
        for field in fields where HTTPHeaders.equalIgnoringCase(field.name, name) { return field.value }
        return nil
    }

    public mutating func append(name: String, value: String) {
        fields.append((name, value))
    }

    /// Continues the last field with an obsolete folded line (one starting with a space or tab).
    mutating func continueLast(with text: String) {
        guard !fields.isEmpty else { return }
        fields[fields.count - 1].value += " " + text
    }

    static func equalIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where p != q {
            let lp = p >= 65 && p <= 90 ? p | 0x20 : p
            let lq = q >= 65 && q <= 90 ? q | 0x20 : q
            if lp != lq { return false }
        }
        return true
    }
}
