import SocketCore

/// File extension → `Content-type`, the way Python's http.server guesses it.
///
/// Python looks in three places, in this order, and so do we:
/// 1. the handler's own table (`.gz` is `application/gzip`, not "a tar file, gzip-encoded");
/// 2. `mimetypes`: a built-in table, overridden line by line by `/etc/mime.types`;
/// 3. `application/octet-stream` when nothing matches ("some bytes": browsers download it).
///
/// The table is read once at start-up; lookups never touch the disk.
public struct MIMETypes: Sendable {
    /// What every file handler uses: the built-in table plus `/etc/mime.types`.
    public static let shared = MIMETypes(loadingFile: "/etc/mime.types")

    /// The handler's own overrides (Python's `SimpleHTTPRequestHandler.extensions_map`).
    static let handlerMap: [String: String] = [
        ".gz": "application/gzip", ".Z": "application/octet-stream",
        ".bz2": "application/x-bzip2", ".xz": "application/x-xz",
    ]

    /// Compression suffixes `mimetypes` strips before looking again (`x.js.br` is JavaScript).
    static let encodingSuffixes: Set<String> = [".gz", ".Z", ".bz2", ".xz", ".br"]

    /// Short forms `mimetypes` expands first (its `suffix_map`): `x.tgz` is `x.tar.gz`.
    static let suffixMap: [String: String] = [
        ".svgz": ".svg.gz", ".tgz": ".tar.gz", ".taz": ".tar.gz", ".tz": ".tar.gz",
        ".tbz2": ".tar.bz2", ".txz": ".tar.xz",
    ]

    /// Python's built-in `mimetypes` table (the common part of it).
    static let builtIn: [String: String] = [
        ".js": "text/javascript", ".mjs": "text/javascript", ".json": "application/json",
        ".webmanifest": "application/manifest+json", ".doc": "application/msword",
        ".bin": "application/octet-stream", ".a": "application/octet-stream", ".so": "application/octet-stream",
        ".o": "application/octet-stream", ".obj": "application/octet-stream", ".pdf": "application/pdf",
        ".p7c": "application/pkcs7-mime", ".ps": "application/postscript", ".ai": "application/postscript",
        ".eps": "application/postscript", ".m3u": "application/vnd.apple.mpegurl",
        ".m3u8": "application/vnd.apple.mpegurl", ".xls": "application/vnd.ms-excel",
        ".xlb": "application/vnd.ms-excel", ".ppt": "application/vnd.ms-powerpoint",
        ".pot": "application/vnd.ms-powerpoint", ".ppa": "application/vnd.ms-powerpoint",
        ".pps": "application/vnd.ms-powerpoint", ".pwz": "application/vnd.ms-powerpoint",
        ".wasm": "application/wasm", ".bcpio": "application/x-bcpio", ".cpio": "application/x-cpio",
        ".csh": "application/x-csh", ".dvi": "application/x-dvi", ".gtar": "application/x-gtar",
        ".hdf": "application/x-hdf", ".h5": "application/x-hdf5", ".latex": "application/x-latex",
        ".mif": "application/x-mif", ".cdf": "application/x-netcdf", ".nc": "application/x-netcdf",
        ".p12": "application/x-pkcs12", ".pfx": "application/x-pkcs12", ".ram": "application/x-pn-realaudio",
        ".pyc": "application/x-python-code", ".pyo": "application/x-python-code", ".sh": "application/x-sh",
        ".shar": "application/x-shar", ".swf": "application/x-shockwave-flash", ".sv4cpio": "application/x-sv4cpio",
        ".sv4crc": "application/x-sv4crc", ".tar": "application/x-tar", ".tcl": "application/x-tcl",
        ".tex": "application/x-tex", ".texi": "application/x-texinfo", ".texinfo": "application/x-texinfo",
        ".roff": "application/x-troff", ".t": "application/x-troff", ".tr": "application/x-troff",
        ".man": "application/x-troff-man", ".me": "application/x-troff-me", ".ms": "application/x-troff-ms",
        ".ustar": "application/x-ustar", ".src": "application/x-wais-source", ".xsl": "application/xml",
        ".rdf": "application/xml", ".wsdl": "application/xml", ".xpdl": "application/xml",
        ".zip": "application/zip", ".3gp": "audio/3gpp", ".3gpp": "audio/3gpp", ".3g2": "audio/3gpp2",
        ".3gpp2": "audio/3gpp2", ".aac": "audio/aac", ".adts": "audio/aac", ".loas": "audio/aac",
        ".ass": "audio/aac", ".au": "audio/basic", ".snd": "audio/basic", ".mp3": "audio/mpeg",
        ".mp2": "audio/mpeg", ".opus": "audio/opus", ".aif": "audio/x-aiff", ".aifc": "audio/x-aiff",
        ".aiff": "audio/x-aiff", ".ra": "audio/x-pn-realaudio", ".wav": "audio/x-wav",
        ".avif": "image/avif", ".bmp": "image/bmp", ".gif": "image/gif", ".ief": "image/ief",
        ".jpg": "image/jpeg", ".jpe": "image/jpeg", ".jpeg": "image/jpeg", ".heic": "image/heic",
        ".heif": "image/heif", ".png": "image/png", ".svg": "image/svg+xml", ".tiff": "image/tiff",
        ".tif": "image/tiff", ".ico": "image/vnd.microsoft.icon", ".ras": "image/x-cmu-raster",
        ".pnm": "image/x-portable-anymap", ".pbm": "image/x-portable-bitmap",
        ".pgm": "image/x-portable-graymap", ".ppm": "image/x-portable-pixmap", ".rgb": "image/x-rgb",
        ".xbm": "image/x-xbitmap", ".xpm": "image/x-xpixmap", ".xwd": "image/x-xwindowdump",
        ".eml": "message/rfc822", ".mht": "message/rfc822", ".mhtml": "message/rfc822",
        ".nws": "message/rfc822", ".css": "text/css", ".csv": "text/csv", ".html": "text/html",
        ".htm": "text/html", ".md": "text/markdown", ".markdown": "text/markdown", ".txt": "text/plain",
        ".bat": "text/plain", ".c": "text/plain", ".h": "text/plain", ".ksh": "text/plain",
        ".pl": "text/plain", ".srt": "text/plain", ".rtx": "text/richtext", ".tsv": "text/tab-separated-values",
        ".vtt": "text/vtt", ".py": "text/x-python", ".etx": "text/x-setext", ".sgm": "text/x-sgml",
        ".sgml": "text/x-sgml", ".vcf": "text/x-vcard", ".xml": "text/xml", ".mp4": "video/mp4",
        ".mpeg": "video/mpeg", ".m1v": "video/mpeg", ".mpa": "video/mpeg", ".mpe": "video/mpeg",
        ".mpg": "video/mpeg", ".mov": "video/quicktime", ".qt": "video/quicktime", ".webm": "video/webm",
        ".avi": "video/x-msvideo", ".movie": "video/x-sgi-movie", ".webp": "image/webp",
    ]

    /// Extension (with its dot, as in the files: `.html`) → type.
    public private(set) var types: [String: String]

    /// The built-in table, then every line `type ext1 ext2 ...` of `path` (later lines win).
    public init(loadingFile path: String?) {
        types = MIMETypes.builtIn
        // mime.types is about 60 KiB; 4 MiB bounds a file that is not one.
        guard let path, let bytes = try? Syscall.readFile(path, limit: 4 << 20, traced: false) else { return }
        for text in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            guard let type = words.first, !type.hasPrefix("#") else { continue }
            for word in words.dropFirst() {
                if word.hasPrefix("#") { break }
                types["." + word] = String(type)
            }
        }
    }

    /// The type for a file path (raw bytes), or `application/octet-stream`: Python's
    /// `SimpleHTTPRequestHandler.guess_type`, then `mimetypes.guess_type`, step by step.
    public func guess(_ path: [UInt8]) -> String {
        var name = path[...]
        if let slash = name.lastIndex(of: 0x2F) { name = name[(slash + 1)...] }
        var ext = MIMETypes.splitExtension(name)
        if let type = MIMETypes.handlerMap[ext.text] ?? MIMETypes.handlerMap[ext.lowercased] { return type }
        // `x.tgz` is read as `x.tar.gz` (mimetypes' suffix_map) ...
        while let longer = MIMETypes.suffixMap[ext.lowercased] {
            name = ArraySlice(name.dropLast(ext.byteCount) + Array(longer.utf8))
            ext = MIMETypes.splitExtension(name)
        }
        // ... and a compression suffix is dropped, case-sensitively as in Python (`.gz`, not `.GZ`).
        if MIMETypes.encodingSuffixes.contains(ext.text) {
            name = name.dropLast(ext.byteCount)
            ext = MIMETypes.splitExtension(name)
        }
        return types[ext.lowercased] ?? "application/octet-stream"
    }

    /// Python's `posixpath.splitext` extension: from the last dot, unless the name is all dots
    /// before it (`.bashrc` has no extension). `byteCount` is its length in the name.
    static func splitExtension(_ name: ArraySlice<UInt8>) -> (text: String, lowercased: String, byteCount: Int) {
        guard let dot = name.lastIndex(of: 0x2E), !name[name.startIndex..<dot].allSatisfy({ $0 == 0x2E }) else {
            return ("", "", 0)
        }
        let bytes = name[dot...]
        let lower = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        return (String(decoding: bytes, as: UTF8.self), String(decoding: lower, as: UTF8.self), bytes.count)
    }
}
