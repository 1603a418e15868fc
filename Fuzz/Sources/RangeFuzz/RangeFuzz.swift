import FuzzSupport
import HTTPServerKit

/// `range`: the Range header and the conditional headers' dates (If-Modified-Since).
/// A satisfiable range lies inside the file; a date that parses prints and parses back the same.
///
/// Input: 6 bytes of file size, then the header value (as ISO-8859-1, as it comes off the wire).
let firstSecondOfYear100 = -59_011_459_200

func check(_ input: UnsafeBufferPointer<UInt8>) {
    var reader = FuzzReader(input)
    let sizes = [0, 1, 499, 500, 10_000, Int.max]
    let selector = Int(reader.byte())
    let size = selector < sizes.count * 16 ? sizes[selector % sizes.count] : Int(reader.u32() >> 1)
    let header = RequestParser.latin1(reader.rest())

    switch ByteRange.parse(header, size: size) {
    case .satisfiable(let range):
        invariant(range.lowerBound >= 0 && range.upperBound < size, "range \(range) outside a file of \(size) bytes")
        // The same header against a longer file is still satisfiable, and starts no later.
        if size < Int.max, case .satisfiable(let longer) = ByteRange.parse(header, size: size + 1) {
            invariant(longer.upperBound >= range.upperBound, "a longer file shortened the range")
        }
    case .unsatisfiable, .ignored:
        break
    }
    invariant(ByteRange.parse(header, size: 0) != .satisfiable(0...0), "a range inside an empty file")

    // If-Modified-Since / Last-Modified: what parses must print back as a date that parses the same.
    // (Years below 100 read back as 19xx/20xx, as in Python's email.utils: not round-trippable.)
    if let seconds = HTTPDate.parse(header), seconds >= firstSecondOfYear100 {
        let printed = HTTPDate.string(from: seconds)
        invariant(HTTPDate.parse(printed) == seconds, "HTTPDate round trip failed for \(seconds): \(printed)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(fuzzBytes(data, size))
    return 0
}

@_cdecl("RangeFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzOne)
}
