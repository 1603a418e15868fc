/// A fence line: three or more backticks (or tildes) and an info string.
struct Fence {
    let marker: Character
    let length: Int
    let info: String

    init?(opening line: String) {
        let trimmed = line.drop { $0 == " " }
        guard line.count - trimmed.count < 4, let first = trimmed.first, first == "`" || first == "~" else { return nil }
        let run = trimmed.prefix { $0 == first }
        guard run.count >= 3 else { return nil }
        marker = first
        length = run.count
        info = String(trimmed.dropFirst(run.count)).trimmed(" \t")
    }

    func isClosed(by line: String) -> Bool {
        let trimmed = line.trimmed(" \t")
        return trimmed.count >= length && trimmed.allSatisfy { $0 == marker }
    }

    /// The first word of the info string: a block kind or a language name.
    var word: String { info.split(separator: " ").first.map(String.init) ?? "" }

    /// The runner's block kind, or nil for an ordinary code block.
    var kind: String? { FenceWords.attributes[word] != nil ? word : nil }
}
