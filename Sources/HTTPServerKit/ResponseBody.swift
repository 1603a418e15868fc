/// What `sendHead()` hands to `copyFile()`: the body still to send after the headers
/// (Python returns an open file object, or an `io.BytesIO` for a listing).
public enum ResponseBody {
    /// `length` bytes of an open file from `offset` (the whole file, or one range).
    case file(descriptor: Int32, offset: Int, length: Int)
    /// Bytes made in memory (a folder listing).
    case bytes([UInt8])

    /// Closes the file, if any (Python's `f.close()`).
    public func close() {
        if case let .file(descriptor, _, _) = self { FileSystem.close(descriptor) }
    }
}
