@preconcurrency import Glibc
import SocketCore

/// Serves files and folder listings from one folder: Python's `SimpleHTTPRequestHandler`.
///
/// `doGET` and `doHEAD` share `sendHead()`, which finds what the path names (`translatePath`),
/// answers redirects, errors and `304 Not Modified` itself, and otherwise sends the headers and
/// returns the body for `copyFile` (GET) to send, or to drop (HEAD).
///
/// Beyond Python: `Range` (206/416), `ETag` with `If-None-Match`, sendfile(2) for large files,
/// symbolic links that lead out of the folder answered 404, NUL and `%2F` in paths refused.
open class FileRequestHandler: RequestHandler {
    /// The folder being served.
    public let directory: ServedDirectory
    /// Extension → Content-type.
    public let mimeTypes: MIMETypes
    /// The last file's validators (see `validators(for:)`).
    var lastValidators: Validators?

    open override var serverVersion: String { "SimpleHTTP/0.6" }

    public init(socket: Socket, clientAddress: String, directory: ServedDirectory,
                mimeTypes: MIMETypes = .shared) {
        self.directory = directory
        self.mimeTypes = mimeTypes
        super.init(socket: socket, clientAddress: clientAddress)
    }

    /// Serves a GET request: headers, then the body.
    open override func doGET() throws {
        guard let body = try sendHead() else { return }
        defer { body.close() }
        try copyFile(body)
    }

    /// Serves a HEAD request: the same headers as GET, no body.
    open override func doHEAD() throws {
        try sendHead()?.close()
    }

    /// Common code for GET and HEAD: sends the status line and headers and returns the body to
    /// send, or nil when the response is already complete (an error, a redirect, a 304).
    open func sendHead() throws -> ResponseBody? {
        let target = RequestParser.latin1Bytes(path)
        let urlPath = Self.splitTarget(target).path
        if PercentEncoding.hasForbiddenBytes(urlPath) {
            try sendError(400, "Bad request path (NUL byte or encoded slash)")
            return nil
        }
        guard var (file, filePath) = try openRequested() else { return nil }
        if file.status.isDirectory {
            if urlPath.last != UInt8(ascii: "/") {
                // Redirect, as Apache does: relative links in the page need the trailing slash.
                sendResponse(301)
                sendHeader("Location", RequestParser.latin1(Self.slashedLocation(target)))
                sendHeader("Content-Length", "0")
                try endHeaders()
                return nil
            }
            guard let index = openIndex(in: file) else { return try listDirectory(file) }
            file = index.file
            filePath += Array(index.name.utf8)
        }
        // A file named with a trailing slash ("/a.txt/") is not that file (Python issue 17324).
        if filePath.last == UInt8(ascii: "/") || !file.status.isRegularFile {
            try sendError(404, "File not found")
            return nil
        }
        let validators = validators(for: file.status)
        if notModified(validators) {
            sendNotModified(etag: validators.etag)
            return nil
        }
        return try sendFileHead(file, contentType: guessType(filePath), validators: validators)
    }

    /// Opens what the request path names. Sends 404 when there is nothing there, and 503
    /// with `Retry-After` when the server is out of descriptors (the file may well exist:
    /// the client should try again, not conclude it is gone), then returns nil.
    func openRequested() throws -> (OpenFile, [UInt8])? {
        let filePath = translatePath(path)
        do {
            return (try openWithStatus(filePath), filePath)
        } catch let error as SocketError where error.isDescriptorShortage {
            try sendError(503, headers: [("Retry-After", "1")])
            return nil
        } catch {
            // Python links a name that is not UTF-8 its own way (see undoingSurrogateEscapes):
            // a link copied from Python's listing still finds the file.
            if let pythonLink = Self.undoingSurrogateEscapes(filePath), let file = try? openWithStatus(pythonLink) {
                return (file, pythonLink)
            }
            try sendError(404, "File not found")
            return nil
        }
    }

    /// Opens a translated path and reads its status.
    func openWithStatus(_ filePath: [UInt8]) throws -> OpenFile {
        let fd = try openInsideDirectory(filePath)
        do {
            return OpenFile(descriptor: fd, status: try FileSystem.status(of: fd))
        } catch {
            FileSystem.close(fd)
            throw error
        }
    }

    /// Opens `index.html`, else `index.htm`, in an open folder, when it is a regular file.
    func openIndex(in folder: OpenFile) -> (file: OpenFile, name: String)? {
        for name in ["index.html", "index.htm"] {
            guard let fd = try? FileSystem.open(name, in: folder.descriptor) else { continue }
            if let info = try? FileSystem.status(of: fd), info.isRegularFile, isInsideDirectory(fd) {
                return (OpenFile(descriptor: fd, status: info), name)
            }
            FileSystem.close(fd)
        }
        return nil
    }

    /// Opens a translated path, but only if it lies inside the served folder once every symbolic
    /// link is resolved (unless `--follow-symlinks`). The kernel checks with openat2(2)
    /// RESOLVE_BENEATH; what it refuses (EXDEV: a link that leaves the folder, or an absolute
    /// link) gets a second look by `isInsideDirectory`, which accepts absolute links that lead
    /// back inside. So does everything when there is no openat2 (ENOSYS before Linux 5.6, EPERM
    /// from an older container's seccomp profile): a plain open(2), then the same check.
    func openInsideDirectory(_ filePath: [UInt8]) throws -> Int32 {
        guard directory.realPath != nil else { return try FileSystem.open(filePath) }
        do {
            return try FileSystem.open(directory.relative(filePath), beneath: directory.descriptor)
        } catch let error as SocketError where [EXDEV, ENOSYS, EPERM].contains(error.errno?.rawValue ?? 0) {
            let fd = try FileSystem.open(filePath)
            guard isInsideDirectory(fd) else {
                FileSystem.close(fd)
                throw error
            }
            return fd
        }
    }

    /// Whether an open file lies inside the served folder once every symbolic link is resolved.
    /// The kernel's own answer (`/proc/self/fd/N`) is used, so a link swapped after the check
    /// cannot redirect us: we check the very file we will send.
    func isInsideDirectory(_ fd: Int32) -> Bool {
        guard directory.realPath != nil else { return true }
        guard let resolved = FileSystem.pathOfOpenFile(fd) else { return false }
        return directory.contains(resolved: resolved)
    }

    /// Sends the HTML listing of an open folder (no index.html): Python's page, byte for byte.
    open func listDirectory(_ folder: OpenFile) throws -> ResponseBody? {
        let entries: [FileSystem.Entry]
        do {
            entries = try FileSystem.entries(ofDirectory: folder.release())
        } catch {
            try sendError(404, "No permission to list directory")
            return nil
        }
        let page = DirectoryListing.html(entries: entries, requestPath: RequestParser.latin1Bytes(path))
        sendResponse(200)
        sendHeader("Content-type", "text/html; charset=utf-8")
        sendHeader("Content-Length", String(page.count))
        try endHeaders()
        return .bytes(page)
    }

    /// The request path → a file path below the served folder, as raw bytes (Python's
    /// `translate_path`): query and fragment dropped, `%XX` decoded once, then empty, `.` and
    /// `..` segments dropped (`..` also drops the segment before it), so no path leads outside.
    open func translatePath(_ path: String) -> [UInt8] {
        Self.translate(path: RequestParser.latin1Bytes(path), root: directory.path)
    }

    /// `translatePath` as a pure function, for tests.
    public static func translate(path target: [UInt8], root: [UInt8]) -> [UInt8] {
        var path = target[...]
        if let question = path.firstIndex(of: UInt8(ascii: "?")) { path = path[..<question] }
        if let hash = path.firstIndex(of: UInt8(ascii: "#")) { path = path[..<hash] }
        let trailingSlash = path.last(where: { !($0 == 0x20 || (0x09...0x0D).contains($0)) }) == UInt8(ascii: "/")
        let decoded = PercentEncoding.decode(path)
        var words: [ArraySlice<UInt8>] = []
        for word in decoded.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if word.elementsEqual([UInt8(ascii: ".")]) { continue }
            if word.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if !words.isEmpty { words.removeLast() }
                continue
            }
            words.append(word)
        }
        var result = root
        for word in words {
            if result.last != UInt8(ascii: "/") { result.append(UInt8(ascii: "/")) }
            result.append(contentsOf: word)
        }
        if trailingSlash && result.last != UInt8(ascii: "/") { result.append(UInt8(ascii: "/")) }
        return result
    }

    /// Sends the body `sendHead` returned: a small file is read into the send buffer (one send()
    /// with the headers), a large one goes with sendfile(2), never through our memory whole.
    open func copyFile(_ body: ResponseBody) throws {
        switch body {
        case .bytes(let bytes):
            try wfile.write(bytes)
        case let .file(file, offset, length):
            try copyRange(of: file, offset ..< offset + length)
        case let .parts(file, multipart):
            for part in multipart.parts {
                try wfile.write(part.head)
                try copyRange(of: file, part.range)
            }
            try wfile.write(multipart.trailer)
        }
    }

    private func copyRange(of file: OpenFile, _ range: Range<Int>) throws {
        if range.count <= wfile.spaceLeft {
            try wfile.writeFile(file.descriptor, offset: range.lowerBound, length: range.count)
        } else {
            try wfile.sendFile(file.descriptor, offset: range.lowerBound, length: range.count)
        }
    }

    /// The Content-type for a file path (see `MIMETypes`).
    open func guessType(_ path: [UInt8]) -> String {
        mimeTypes.guess(path)
    }

    // MARK: - Helpers

    /// Python lists a file name byte that is not UTF-8, say 0xE9, as the lone surrogate U+DCE9
    /// (`surrogateescape`), and links it as that surrogate's UTF-8 bytes, `%ED%B3%A9`; its server
    /// maps them back to 0xE9. Our listing links the byte itself (`%E9`). This turns every
    /// ED B2..B3 xx sequence back into its byte, so Python's links work here too; nil if none.
    static func undoingSurrogateEscapes(_ path: [UInt8]) -> [UInt8]? {
        var result: [UInt8] = []
        var index = 0
        var changed = false
        while index < path.count {
            if path[index] == 0xED, index + 2 < path.count, (0xB2...0xB3).contains(path[index + 1]),
               (0x80...0xBF).contains(path[index + 2]) {
                result.append((path[index + 1] & 0x01) << 6 | (path[index + 2] & 0x3F) | 0x80)
                index += 3
                changed = true
            } else {
                result.append(path[index])
                index += 1
            }
        }
        return changed ? result : nil
    }

    /// Splits a request target as Python's `urlsplit` does for a path: `path?query#fragment`.
    static func splitTarget(_ target: [UInt8]) -> (path: ArraySlice<UInt8>, query: ArraySlice<UInt8>?, fragment: ArraySlice<UInt8>?) {
        var rest = target[...]
        var fragment: ArraySlice<UInt8>?
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            fragment = rest[(hash + 1)...]
            rest = rest[..<hash]
        }
        var query: ArraySlice<UInt8>?
        if let question = rest.firstIndex(of: UInt8(ascii: "?")) {
            query = rest[(question + 1)...]
            rest = rest[..<question]
        }
        return (rest, query, fragment)
    }

    /// The redirect target for a folder asked for without its slash: path + `/`, with the query
    /// and fragment kept (dropped when empty, as `urlunsplit` does).
    ///
    /// A browser reads `/\evil.example/..` as `//evil.example/..` (another host), drops a leading
    /// control character, and takes `https:evil.example` as an absolute URL. So, in the path,
    /// `\`, control characters and space are percent-encoded, and so is a `:` before the first
    /// `/` (unless `://` follows: an absolute-form target names its host itself, and keeps it, as
    /// CPython's tests expect). The link still names the same folder here (translatePath decodes
    /// it back), never another site. Python 3.11 lets all three through (open redirects).
    static func slashedLocation(_ target: [UInt8]) -> [UInt8] {
        let parts = splitTarget(target)
        let path = Array(parts.path)
        var location: [UInt8] = []
        var inFirstSegment = path.first != UInt8(ascii: "/")   // a relative path: no scheme allowed
        for (index, byte) in path.enumerated() {
            if byte == UInt8(ascii: "/") { inFirstSegment = false }
            let schemeLike = inFirstSegment && byte == UInt8(ascii: ":")
                && !path[(index + 1)...].starts(with: Array("//".utf8))
            if byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "\\") || schemeLike {
                PercentEncoding.encode([byte], into: &location)
            } else {
                location.append(byte)
            }
        }
        location.append(UInt8(ascii: "/"))
        if let query = parts.query, !query.isEmpty { location.append(UInt8(ascii: "?")); location += query }
        if let fragment = parts.fragment, !fragment.isEmpty { location.append(UInt8(ascii: "#")); location += fragment }
        return location
    }
}
