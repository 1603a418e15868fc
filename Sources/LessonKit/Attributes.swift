/// The attributes after the block kind in an info string.
struct Attributes {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    /// Every attribute name, bare word or key, in the order written.
    private(set) var names: [String] = []

    init(_ info: String) throws {
        var characters = Substring(info)
        // Skip the kind word.
        characters = characters.drop { $0 != " " }
        while true {
            characters = characters.drop { $0 == " " || $0 == "\t" }
            guard !characters.isEmpty else { break }
            let key = characters.prefix { $0 != "=" && $0 != " " }
            characters = characters.dropFirst(key.count)
            if characters.first == "=" {
                characters = characters.dropFirst()
                var value = ""
                if characters.first == "\"" {
                    characters = characters.dropFirst()
                    guard let close = characters.firstIndex(of: "\"") else {
                        throw AttributeError(message: "unterminated quote in \(key)=")
                    }
                    value = String(characters[..<close])
                    characters = characters[characters.index(after: close)...]
                } else {
                    value = String(characters.prefix { $0 != " " })
                    characters = characters.dropFirst(value.count)
                }
                values[String(key)] = value
            } else {
                flags.insert(String(key))
            }
            names.append(String(key))
        }
    }

    subscript(key: String) -> String? { values[key] }
    func has(_ flag: String) -> Bool { flags.contains(flag) }
}

struct AttributeError: Error { let message: String }
