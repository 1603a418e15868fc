/// The HTML page for a folder without index.html, identical to Python's `list_directory`:
///
///     <li><a href="caf%C3%A9%20menu.txt">café menu.txt</a></li>     a file
///     <li><a href="docs/">docs/</a></li>                            a folder
///     <li><a href="latest/">latest@</a></li>                        a link (to a folder)
///
/// Names are the raw bytes readdir(3) gave: the text is HTML-escaped bytes, the link is the
/// percent-encoded bytes, so even a name that is not UTF-8 shows up and can be clicked.
public enum DirectoryListing {
    public static func html(entries: [FileSystem.Entry], requestPath: [UInt8]) -> [UInt8] {
        let sorted = sortedForListing(entries)
        var title: [UInt8] = Array("Directory listing for ".utf8)
        HTMLEscaping.escape(displayPath(requestPath), into: &title)

        var page: [UInt8] = []
        page.reserveCapacity(400 + entries.count * 80)
        page.append(contentsOf: "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>".utf8)
        page += title
        page.append(contentsOf: "</title>\n</head>\n<body>\n<h1>".utf8)
        page += title
        page.append(contentsOf: "</h1>\n<hr>\n<ul>\n".utf8)
        for entry in sorted {
            var link = entry.name
            var shown = entry.name
            if entry.isDirectory {
                link.append(UInt8(ascii: "/"))
                shown.append(UInt8(ascii: "/"))
            }
            if entry.isSymbolicLink {
                shown = entry.name + [UInt8(ascii: "@")]   // a link to a folder shows @ but links with /
            }
            page.append(contentsOf: "<li><a href=\"".utf8)
            PercentEncoding.encode(link, into: &page)
            page.append(contentsOf: "\">".utf8)
            HTMLEscaping.escape(shown, into: &page)
            page.append(contentsOf: "</a></li>\n".utf8)
        }
        page.append(contentsOf: "</ul>\n<hr>\n</body>\n</html>\n".utf8)
        return page
    }

    /// The request path as shown in the title: percent-decoded; bytes that do not form UTF-8
    /// become U+FFFD, as Python's `unquote` does.
    static func displayPath(_ requestPath: [UInt8]) -> [UInt8] {
        let decoded = PercentEncoding.decode(requestPath)
        if String(validating: decoded, as: UTF8.self) != nil { return decoded }
        return Array(String(decoding: decoded, as: UTF8.self).utf8)
    }

    /// Python's `list.sort(key=lambda a: a.lower())` on names decoded with `surrogateescape`:
    /// by lower-cased code points, each undecodable byte counting as U+DC80...U+DCFF.
    public static func sortedForListing(_ entries: [FileSystem.Entry]) -> [FileSystem.Entry] {
        if entries.allSatisfy({ $0.name.allSatisfy { $0 < 0x80 } }) {
            // All ASCII (the usual case): compare lower-cased bytes in place, no keys to build.
            return entries.enumerated().sorted { a, b in
                let order = compareASCIIIgnoringCase(a.element.name, b.element.name)
                return order < 0 || (order == 0 && a.offset < b.offset)
            }.map(\.element)
        }
        let keyed = entries.enumerated().map { (key: sortKey($0.element.name), index: $0.offset, entry: $0.element) }
        return keyed.sorted { a, b in
            a.key.lexicographicallyPrecedes(b.key) || (a.key == b.key && a.index < b.index)
        }.map(\.entry)
    }

    static func compareASCIIIgnoringCase(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for (x, y) in zip(a, b) {
            let lx = x >= 65 && x <= 90 ? x | 0x20 : x
            let ly = y >= 65 && y <= 90 ? y | 0x20 : y
            if lx != ly { return lx < ly ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    static func sortKey(_ name: [UInt8]) -> [UInt32] {
        var key: [UInt32] = []
        key.reserveCapacity(name.count)
        var index = 0
        while index < name.count {
            let byte = name[index]
            if byte < 0x80 {
                key.append(UInt32(byte >= 65 && byte <= 90 ? byte | 0x20 : byte))
                index += 1
                continue
            }
            if let (scalar, length) = decodeScalar(name, at: index) {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars { key.append(lower.value) }
                index += length
            } else {
                key.append(0xDC00 + UInt32(byte))   // surrogateescape
                index += 1
            }
        }
        return key
    }

    /// One well-formed UTF-8 sequence at `index` (no overlongs, no surrogates), or nil.
    static func decodeScalar(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let first = bytes[index]
        let length: Int
        var value: UInt32
        switch first {
        case 0xC2...0xDF: length = 2; value = UInt32(first & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(first & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(first & 0x07)
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        let minimum: UInt32 = length == 3 ? 0x800 : length == 4 ? 0x10000 : 0x80
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
