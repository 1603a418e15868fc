@preconcurrency import Glibc

/// What libFuzzer calls with each input: the bytes and their count. Returns 0 (-1 would tell
/// libFuzzer not to add the input to the corpus).
public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// libFuzzer's entry for programs with their own `main` (compiler-rt `FuzzerDriver.cpp`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> Int32

/// Runs libFuzzer over `callback` with the command line the program got.
///
/// SwiftPM links an ELF executable with `--defsym main=<Module>_main`, so each target defines
/// `<Module>_main` itself and hands its arguments to libFuzzer here, instead of relying on the
/// `main` that `-sanitize=fuzzer` would otherwise provide.
public func runFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ callback: FuzzCallback) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments, callback)
}

/// The input as a buffer, empty for a null pointer.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> UnsafeBufferPointer<UInt8> {
    guard let data, size > 0 else { return UnsafeBufferPointer(start: nil, count: 0) }
    return UnsafeBufferPointer(start: data, count: size)
}

/// An invariant of the parser under test. A broken one aborts, which libFuzzer reports as a
/// crash and saves the input as `crash-<sha1>`: the regression input for the corpus.
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    guard !condition() else { return }
    fputs("invariant broken at \(file):\(line): \(message())\n", stderr)
    abort()
}

/// Reads structure out of the fuzzer's bytes: a byte, a number, the rest. Past the end every
/// read gives zero, so any input is a valid program for the target.
public struct FuzzReader {
    public let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var position = 0

    public init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    public var isAtEnd: Bool { position >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    public mutating func u32() -> UInt32 { UInt32(u16()) << 16 | UInt32(u16()) }

    public mutating func u64() -> UInt64 { UInt64(u32()) << 32 | UInt64(u32()) }

    /// Everything not read yet.
    public mutating func rest() -> UnsafeBufferPointer<UInt8> {
        guard position < bytes.count else { return UnsafeBufferPointer(start: nil, count: 0) }
        defer { position = bytes.count }
        return UnsafeBufferPointer(rebasing: bytes[position...])
    }
}
