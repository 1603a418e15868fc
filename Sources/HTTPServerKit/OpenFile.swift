/// An open file or folder of the served tree, with what fstat(2) said about it. Closes its
/// descriptor exactly once: by `close()`, by `release()` handing it on, or when the last
/// reference goes away, so no path through `sendHead` can leak it.
public final class OpenFile {
    public private(set) var descriptor: Int32
    public let status: FileSystem.Status

    public init(descriptor: Int32, status: FileSystem.Status) {
        self.descriptor = descriptor
        self.status = status
    }

    deinit { close() }

    /// Closes the file now (Python's `f.close()`); later calls do nothing.
    public func close() {
        guard descriptor >= 0 else { return }
        FileSystem.close(descriptor)
        descriptor = -1
    }

    /// Gives up the descriptor to a call that closes it itself (fdopendir(3) + closedir(3)).
    public func release() -> Int32 {
        defer { descriptor = -1 }
        return descriptor
    }
}
