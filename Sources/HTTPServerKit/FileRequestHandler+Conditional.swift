/// Conditional requests (RFC 9110 §13): the client's cached copy may still be good.
extension FileRequestHandler {
    /// What identifies one version of a file: `ETag` (modification time and size, in hex, as
    /// nginx makes it) and `Last-Modified`.
    struct Validators {
        let etag: String
        let lastModified: String
        let modified: Int
        let size: Int

        init(_ status: FileSystem.Status) {
            modified = status.modified
            size = status.size
            var tag = "\""   // appended in place: this runs on every request for a file
            tag.reserveCapacity(36)
            tag += String(status.modified, radix: 16)
            tag += "-"
            tag += String(status.size, radix: 16)
            tag += "\""
            etag = tag
            lastModified = HTTPDate.string(from: status.modified)
        }
    }

    /// The validators of a file's status: those of the previous request on this connection when
    /// the file's mtime and size are the same (a keep-alive client often asks for the same file
    /// again, and formatting a date costs more than sending a small file).
    func validators(for status: FileSystem.Status) -> Validators {
        if let last = lastValidators, last.modified == status.modified, last.size == status.size { return last }
        let fresh = Validators(status)
        lastValidators = fresh
        return fresh
    }

    /// Whether the client's copy is current: 304 then. With If-None-Match, If-Modified-Since
    /// is ignored, as in Python; but Python has no ETag and always answers 200 there, while a
    /// matching tag (or `*`, RFC 9110 §13.1.2, as nginx does) gets 304 here. (CPython's
    /// test_browser_cache_with_If_None_Match_header expects 200 for `*`.)
    func notModified(_ validators: Validators) -> Bool {
        if let ifNoneMatch = headers["If-None-Match"] {
            return Self.etag(validators.etag, matches: ifNoneMatch)
        }
        guard let ifModifiedSince = headers["If-Modified-Since"], let since = HTTPDate.parse(ifModifiedSince) else { return false }
        return validators.modified <= since
    }

    /// `304 Not Modified`: no body; the client uses its copy.
    func sendNotModified(etag: String) {
        sendResponse(304)
        sendHeader("ETag", etag)
        try? endHeaders()
    }

    /// `If-Range`: apply the Range only if the client's copy is still this version of the file.
    func ifRangeAllows(_ validators: Validators) -> Bool {
        guard let ifRange = headers["If-Range"] else { return true }
        return ifRange == validators.etag || ifRange == validators.lastModified
    }

    /// `If-None-Match: "a", W/"b"` or `*` against our tag (weak comparison, RFC 9110 §13.1.2).
    static func etag(_ etag: String, matches header: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingSpaces
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == etag[...] { return true }
        }
        return false
    }
}
