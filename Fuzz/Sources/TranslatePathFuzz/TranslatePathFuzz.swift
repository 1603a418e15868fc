import FuzzSupport
import HTTPServerKit

/// `translate-path`: percent-decoding and `translate_path`. Whatever the request path, the file
/// path it becomes stays below the served folder.
///
/// Input: one byte choosing the root, then the request path as raw bytes.
let roots: [[UInt8]] = [Array("/srv/www".utf8), Array("/".utf8), Array("/tmp/served/".utf8), Array("relative".utf8)]

func check(_ input: UnsafeBufferPointer<UInt8>) {
    var reader = FuzzReader(input)
    let root = roots[Int(reader.byte()) % roots.count]
    let target = Array(reader.rest())

    let path = FileRequestHandler.translate(path: target, root: root)
    invariant(path.starts(with: root), "the result does not start with the root")
    // Below the root: no segment is empty (but a trailing slash), `.` or `..`.
    let below = path.dropFirst(root.count)
    let segments = below.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
    for (index, segment) in segments.enumerated() {
        let isEdge = index == 0 || index == segments.count - 1
        invariant(!segment.isEmpty || isEdge, "an empty segment inside the translated path")
        invariant(!segment.elementsEqual([0x2E]) && !segment.elementsEqual([0x2E, 0x2E]),
                  "a `.` or `..` segment survived translation")
    }
    invariant(root.last == UInt8(ascii: "/") || below.isEmpty || below.first == UInt8(ascii: "/"),
              "the first segment is glued to the root")
    checkPercentEncoding(target)
}

/// decode(encode(x)) is x; `encode` writes only unreserved bytes, `/` and `%XX`; a path without
/// forbidden bytes decodes to no NUL and no extra `/`.
func checkPercentEncoding(_ bytes: [UInt8]) {
    var encoded: [UInt8] = []
    PercentEncoding.encode(bytes, into: &encoded)
    invariant(PercentEncoding.decode(encoded) == bytes, "decode(encode(x)) != x")
    invariant(encoded.allSatisfy { $0 < 0x80 && $0 > 0x20 }, "encode wrote a byte that needs quoting")
    let decoded = PercentEncoding.decode(bytes)
    invariant(decoded.count <= bytes.count, "decoding made the path longer")
    if !PercentEncoding.hasForbiddenBytes(bytes) {
        invariant(!decoded.contains(0), "a NUL byte passed hasForbiddenBytes")
        let slashes = { (b: [UInt8]) in b.lazy.filter { $0 == UInt8(ascii: "/") }.count }
        invariant(slashes(decoded) == slashes(bytes), "an encoded `/` passed hasForbiddenBytes")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(fuzzBytes(data, size))
    return 0
}

@_cdecl("TranslatePathFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzOne)
}
