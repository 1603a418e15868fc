/// One SVG ladder document, planned before it is written: which connections it draws and where
/// each one starts, so its height (in the opening `<svg>` tag) is known before the first
/// connection is drawn, and the rest can be written one connection at a time as a client reads.
///
/// The plan keeps numbers only; a connection's drawing is made when it is written, from the
/// ladder the plan was made from (a copy: events that arrive meanwhile are not in it).
struct SVGLadderDocument: Sendable {
    let ladder: Ladder
    /// The positions in `ladder.entries` of the connections drawn, in order.
    let shown: [Int]
    /// Where each drawn connection's block starts.
    let tops: [Int]
    let height: Int

    /// Plans the document of every connection, or only `connection`'s.
    init(_ ladder: Ladder, connection: Int? = nil) {
        self.ladder = ladder
        shown = ladder.entries.indices.filter { connection == nil || ladder.entries[$0].connection.number == connection }
        var tops: [Int] = [], y = 0
        for (order, position) in shown.enumerated() {
            if order > 0 { y += 20 }   // the rule between two ladders
            tops.append(y)
            y += LadderLayout(ladder.entries[position].connection, in: ladder).height
        }
        self.tops = tops
        height = shown.isEmpty ? 100 : y
    }

    /// The document's text, piece by piece: the opening, one piece per connection, the end.
    func pieces() -> Pieces { Pieces(document: self) }

    struct Pieces: Sendable, IteratorProtocol {
        let document: SVGLadderDocument
        /// -1: the opening is next; `shown.count`: the end; past it: done.
        private var cursor = -1

        init(document: SVGLadderDocument) { self.document = document }

        mutating func next() -> String? {
            let position = cursor
            guard position <= document.shown.count else { return nil }
            cursor += 1
            if position == -1 {
                return SVGLadderWriter.head(height: document.height) + (document.shown.isEmpty ? SVGLadderWriter.noConnection : "")
            }
            if position == document.shown.count { return SVGLadderWriter.tail }
            let connection = document.ladder.entries[document.shown[position]].connection
            let block = SVGLadderWriter.block(connection, LadderLayout(connection, in: document.ladder))
            return SVGLadderWriter.placed(block, at: document.tops[position], first: position == 0)
        }
    }
}
