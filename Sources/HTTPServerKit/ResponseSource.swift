/// A body made as the client reads it: the server asks for the next piece only when the
/// stream's buffer has been sent, so a client that stops reading stops the producer too, and
/// costs one piece of memory, however large the whole body.
///
/// This is back-pressure by pull, where `push` is back-pressure by limit: a live event stream
/// cannot wait for its slowest reader (it drops it), a finished document can.
public protocol ResponseSource: Sendable {
    /// The next bytes of the body (not empty); nil at its end. Called by one writer at a time.
    /// Throwing means the body cannot be completed: the connection is dropped (the client sees
    /// a short body, never a complete-looking wrong one).
    func nextPiece() throws -> [UInt8]?
}
