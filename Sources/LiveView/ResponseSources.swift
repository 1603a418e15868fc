import HTTPServerKit
import Synchronization

/// `/events.jsonl` as the client reads it: 64 KiB of the ring's lines at a time, from the first
/// event kept when the request came to the last. A client so slow that the ring overwrites the
/// next line before it is sent loses its connection: the body falls short of its
/// Content-Length, never silently skips events.
final class EventLinesSource: ResponseSource {
    struct Overwritten: Error {}

    private let hub: EventHub
    private let last: Int
    private let next: Mutex<Int>

    init(hub: EventHub, from first: Int, through last: Int) {
        self.hub = hub
        self.last = last
        next = Mutex(first)
    }

    func nextPiece() throws -> [UInt8]? {
        try next.withLock { next in
            guard next <= last else { return nil }
            guard let (bytes, after) = hub.lines(from: next, through: last, maxBytes: 64 * 1024) else { throw Overwritten() }
            next = after
            return bytes
        }
    }
}

/// `/ladder.svg` as the client reads it: the planned document, drawn a few connections at a
/// time (about 16 KiB), so a client that does not read costs one piece and the plan, which
/// every request since the last event shares.
final class SVGLadderSource: ResponseSource {
    private let pieces: Mutex<SVGLadderDocument.Pieces>

    init(_ document: SVGLadderDocument) {
        pieces = Mutex(document.pieces())
    }

    func nextPiece() -> [UInt8]? {
        pieces.withLock { pieces in
            var out: [UInt8] = []
            while out.count < 16 * 1024, let piece = pieces.next() { out += Array(piece.utf8) }
            return out.isEmpty ? nil : out
        }
    }
}
