/// The words a fence line may use, and the checks that make a typo an error instead of prose.
///
/// A fence whose first word is not an instruction is an ordinary code block, shown as it is.
/// That leniency hid typos: ```` ```expcet ```` was shown as text and its expectation never
/// checked, so the lesson "passed". Now a first word that looks like a misspelt instruction
/// (edit distance 1, or 2 when both words have 5 letters or more; a swap of two neighbouring
/// letters is one edit) is an error, unless it is a
/// known language name. An attribute an instruction does not know (`colour=blue`) is an error too.
enum FenceWords {
    /// Each block kind and the attributes it takes (bare words and `key=` names alike).
    /// Add a kind or an attribute here and the parser accepts it.
    static let attributes: [String: Set<String>] = [
        "run": ["label", "background", "ready", "root", "status", "timeout", "trace"],
        "fallback": ["status", "timeout"],
        "expect": ["label", "stream", "live", "fallback", "absent", "timeout", "order"],
        "timeline": ["labels"],
        "stop": ["label", "signal"],
        "cleanup": [],
        "prose": ["live", "replay"],
    ]

    /// The runner's block kinds.
    static var kinds: [String] { attributes.keys.sorted() }

    /// Code block languages (GitHub's linguist names and common aliases) that stay prose even
    /// when they are close to an instruction word.
    static let languages: Set<String> = [
        "text", "txt", "plain", "console", "shell", "sh", "bash", "zsh", "fish", "shell-session", "terminal",
        "swift", "c", "h", "cpp", "c++", "objc", "rust", "rs", "ruby", "rb", "go", "python", "py", "python3",
        "java", "kotlin", "js", "javascript", "ts", "typescript", "json", "jsonl", "yaml", "yml", "toml", "ini",
        "xml", "html", "css", "http", "diff", "patch", "make", "makefile", "sql", "lua", "perl", "php", "r",
        "nim", "zig", "dart", "scala", "elixir", "erlang", "haskell", "ocaml", "lisp", "scheme", "markdown",
        "md", "pcap", "tcpdump", "strace", "log", "csv", "dot", "mermaid", "asm", "nasm", "awk", "sed",
    ]

    /// Throws when `word`, the first word of an ordinary code block's fence, looks like a
    /// misspelt block kind.
    static func checkNotMisspelt(_ word: String, path: String, line: Int) throws {
        let lowered = word.lowercased()
        guard !lowered.isEmpty, !languages.contains(lowered) else { return }
        if attributes[lowered] != nil {
            throw LessonError.format(path: path, line: line, message: "```\(word): block kinds are lower case: ```\(lowered)")
        }
        for kind in kinds where looksLike(lowered, kind) {
            throw LessonError.format(path: path, line: line,
                                     message: "```\(word) is not a block kind: did you mean ```\(kind)? "
                                              + "(a language name such as ```text shows a block as it is)")
        }
    }

    /// Throws when a block of `kind` carries an attribute that kind does not take.
    static func checkAttributes(_ names: [String], kind: String, path: String, line: Int) throws {
        let known = attributes[kind] ?? []
        for name in names where !known.contains(name) {
            let hint = known.first { looksLike(name, $0) }.map { ": did you mean \($0)?" }
                ?? (known.isEmpty ? ": it takes none" : " (it takes \(known.sorted().joined(separator: ", ")))")
            throw LessonError.format(path: path, line: line, message: "```\(kind) has no attribute `\(name)`\(hint)")
        }
    }

    /// Close enough to be a typo: edit distance 1, or 2 when both words have 5 letters or more.
    static func looksLike(_ word: String, _ target: String) -> Bool {
        guard word != target else { return false }
        let allowed = word.count >= 5 && target.count >= 5 ? 2 : 1
        return editDistance(Array(word), Array(target), limit: allowed) <= allowed
    }

    /// Edit distance counting an insertion, a deletion, a substitution or a swap of two
    /// neighbouring letters (`rnu` → `run`) as one edit (optimal string alignment).
    static func editDistance(_ a: [Character], _ b: [Character], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }
}

extension FenceWords {
    /// Both checks for one fence line: a misspelt kind, or an attribute its kind does not take.
    static func check(_ fence: Fence, path: String, line: Int) throws {
        guard let kind = fence.kind else {
            try checkNotMisspelt(fence.word, path: path, line: line)
            return
        }
        let attributes: Attributes
        do { attributes = try Attributes(fence.info) } catch let error as AttributeError {
            throw LessonError.format(path: path, line: line, message: error.message)
        }
        try checkAttributes(attributes.names, kind: kind, path: path, line: line)
    }
}
