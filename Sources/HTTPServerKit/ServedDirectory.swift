/// The folder a `FileRequestHandler` serves, fixed at start-up and shared by every connection.
public struct ServedDirectory: Sendable {
    /// The folder as given (`-d`), as raw bytes: request paths are joined onto it.
    public let path: [UInt8]
    /// Its realpath(3), or nil with `--follow-symlinks`: every file served must lie below it.
    public let realPath: [UInt8]?
    /// The folder, open for the life of the server: files are opened relative to it.
    public let descriptor: Int32

    /// Resolves and opens `path` once; throws (realpath() failed: ENOENT ...) when it does not exist.
    public init(path: [UInt8], followSymlinks: Bool) throws {
        let resolved = try FileSystem.realPath(path)
        self.path = path
        self.realPath = followSymlinks ? nil : resolved
        self.descriptor = try FileSystem.openDirectory(resolved)
    }

    /// The part of a translated path below the folder (`docs/a.txt`), or `.` for the folder itself.
    public func relative(_ file: [UInt8]) -> [UInt8] {
        var rest = file.starts(with: path) ? Array(file[path.count...]) : file
        while rest.first == UInt8(ascii: "/") { rest.removeFirst() }
        return rest.isEmpty ? [UInt8(ascii: ".")] : rest
    }

    /// Whether a resolved file path lies inside the folder (or is the folder).
    public func contains(resolved file: [UInt8]) -> Bool {
        guard let root = realPath else { return true }
        if root == [UInt8(ascii: "/")] { return true }
        guard file.count >= root.count, file.starts(with: root) else { return false }
        return file.count == root.count || file[root.count] == UInt8(ascii: "/")
    }
}
