import Synchronization

/// The head of a file's response: 200 with the whole file, or 206 with the ranges the
/// `Range` header asked for (RFC 9110 §14), or 416.
extension FileRequestHandler {
    /// Sends the headers for `file` and returns its body.
    func sendFileHead(_ file: OpenFile, contentType: String, validators: Validators) throws -> ResponseBody? {
        let size = file.status.size
        var selection = ByteRangeSelection.whole
        if let range = headers["Range"], ifRangeAllows(validators) {
            selection = ByteRangeSelection.parse(range, size: size)
        }
        switch selection {
        case .unsatisfiable:
            try sendError(416, headers: [("Content-Range", "bytes */\(size)")])
            return nil
        case .whole:
            sendFileHeaders(code: 200, contentType: contentType, length: size, validators: validators)
            try endHeaders()
            return .file(file, offset: 0, length: size)
        case .ranges(let ranges) where ranges.count == 1:
            let range = ranges[0]
            sendFileHeaders(code: 206, contentType: contentType, length: range.count, validators: validators)
            sendHeader("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)")
            try endHeaders()
            return .file(file, offset: range.lowerBound, length: range.count)
        case .ranges(let ranges):
            let multipart = MultipartByteRanges(ranges: ranges, size: size, contentType: contentType,
                                                boundary: Self.nextBoundary())
            sendFileHeaders(code: 206, contentType: multipart.contentType, length: multipart.length, validators: validators)
            try endHeaders()
            return .parts(file, multipart)
        }
    }

    private func sendFileHeaders(code: Int, contentType: String, length: Int, validators: Validators) {
        sendResponse(code)
        sendHeader("Content-type", contentType)
        sendHeader("Content-Length", String(length))
        sendHeader("Last-Modified", validators.lastModified)
        sendHeader("ETag", validators.etag)
        sendHeader("Accept-Ranges", "bytes")
    }

    /// A boundary no file byte sequence is likely to contain by chance: a counter, as nginx
    /// uses, zero-padded to 20 digits.
    static func nextBoundary() -> String {
        let number = String(boundaryCounter.add(1, ordering: .relaxed).newValue)
        return String(repeating: "0", count: max(0, 20 - number.count)) + number
    }
}

private let boundaryCounter = Atomic<UInt64>(0)
