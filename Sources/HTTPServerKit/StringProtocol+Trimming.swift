/// The small text helpers the header parsers share: OWS trimming (RFC 9110 §5.6.3: spaces and
/// tabs only, not Unicode white space) and ASCII digits.
extension StringProtocol where SubSequence == Substring {
    var trimmingSpaces: Substring {
        let s = self[...]
        guard let first = s.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return s[s.endIndex...] }
        let last = s.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return s[first...last]
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
