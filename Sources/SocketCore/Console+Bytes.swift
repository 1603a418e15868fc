extension Console {
    /// Bytes as Python's classic echo lesson prints them, `b'hello\n'`, so the Swift and Python
    /// outputs can sit side by side. Text stays text and anything else becomes `\xNN` (see
    /// `printable`). Past `limit` bytes the rest is elided and the total given:
    /// `b'aaaaaaaa'... (2048 bytes)`, so a 64 KiB read stays one readable line.
    public static func bytesLiteral(_ bytes: some Collection<UInt8>, limit: Int = 64) -> String {
        let text = printable(bytes.prefix(limit)).replacingQuotes()
        return bytes.count > limit ? "b'\(text)'... (\(bytes.count) bytes)" : "b'\(text)'"
    }
}

private extension String {
    /// `'` inside `b'...'` is written `\'`, as Python's repr() does.
    func replacingQuotes() -> String {
        var out = ""
        out.reserveCapacity(utf8.count)
        for character in self {
            if character == "'" { out += "\\'" } else { out.append(character) }
        }
        return out
    }
}
