/// What `sendHead()` hands to `copyFile()`: the body still to send after the headers
/// (Python returns an open file object, or an `io.BytesIO` for a listing).
public enum ResponseBody {
    /// `length` bytes of an open file from `offset` (the whole file, or one range).
    case file(OpenFile, offset: Int, length: Int)
    /// Several ranges of an open file, as the parts of a `multipart/byteranges` body.
    case parts(OpenFile, MultipartByteRanges)
    /// Bytes made in memory (a folder listing).
    case bytes([UInt8])

    /// Closes the file, if any (Python's `f.close()`).
    public func close() {
        switch self {
        case .file(let file, _, _), .parts(let file, _): file.close()
        case .bytes: break
        }
    }
}
