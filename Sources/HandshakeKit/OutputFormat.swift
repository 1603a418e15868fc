/// The output formats of `handshake-watch --format`.
public enum OutputFormat: String, Sendable, CaseIterable {
    case text, ladder, json, svg, timeseq
}
