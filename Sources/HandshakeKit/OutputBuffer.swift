@preconcurrency import Glibc
import Synchronization

/// A reusable byte buffer in front of a `FILE*`, written with fwrite(3).
///
/// Renderers append text and numbers straight into it, so printing a packet allocates nothing;
/// `endLine()` flushes per line when the output must appear as it happens (live capture, a
/// terminal, `--pace`), otherwise the buffer is written when full.
///
/// Made with `lines:` instead of a file, it hands each finished line (without its newline) to a
/// closure: the same renderer then feeds another consumer, such as the live view's event hub.
public final class OutputBuffer {
    private let capacity: Int
    private let storage: UnsafeMutablePointer<UInt8>
    private var count = 0
    private let file: UnsafeMutablePointer<FILE>?
    private let lineSink: (([UInt8]) -> Void)?
    /// The start of a line longer than the buffer, in lines mode.
    private var partialLine: [UInt8] = []
    /// Flush at every end of line.
    public var flushesEachLine: Bool
    /// `--width`: lines longer than this are wrapped under a hanging indent (`LineWrapper`);
    /// nil: lines as they are made (into a pipe, for the programs that read them).
    public var wrapper: LineWrapper?
    /// Where the line being made starts in the buffer; nil once part of it was written out
    /// (a line longer than the buffer), which is then left unwrapped.
    private var lineStart: Int? = 0
    /// The errno of the first failed write (a full disk, `> /dev/full`), so the tool can say so
    /// at the end instead of exiting 0 with its output lost.
    public private(set) var writeError: Int32?
    /// Writes begun and writes returned, counted across every buffer of the process: how the
    /// signal thread tells a run that is slow to finish (a loaded machine, thousands of
    /// connections to sum up) from one blocked in a write to a pipe nobody reads (a write begun
    /// that does not return).
    public static let writesBegun = Atomic<Int>(0)
    public static let writesDone = Atomic<Int>(0)

    public init(file: UnsafeMutablePointer<FILE>, flushesEachLine: Bool, capacity: Int = 1 << 16) {
        self.file = file
        lineSink = nil
        self.flushesEachLine = flushesEachLine
        self.capacity = max(capacity, 256)
        storage = .allocate(capacity: self.capacity)
    }

    /// A buffer whose every line goes to `sink`, whole, when it ends.
    public init(lines sink: @escaping ([UInt8]) -> Void, capacity: Int = 1 << 16) {
        file = nil
        lineSink = sink
        flushesEachLine = false
        self.capacity = max(capacity, 256)
        storage = .allocate(capacity: self.capacity)
    }

    deinit {
        flush()
        storage.deallocate()
    }

    /// Writes what is buffered and flushes the FILE.
    public func flush() {
        write()
        guard let file else { return }
        Self.writesBegun.add(1, ordering: .relaxed)
        if (fflush(file) != 0 || ferror(file) != 0) && writeError == nil { writeError = errno }
        Self.writesDone.add(1, ordering: .relaxed)
    }

    /// Hands the buffered bytes to the FILE (in lines mode: keeps them as the line's start).
    private func write() {
        guard let file else {
            partialLine.append(contentsOf: UnsafeBufferPointer(start: storage, count: count))
            count = 0
            return
        }
        // fwrite(3) on a line-buffered FILE can report every byte taken while the write(2) under
        // it failed (EPIPE: the reader left): the FILE's error flag says so.
        Self.writesBegun.add(1, ordering: .relaxed)
        if count > 0 && (fwrite(storage, 1, count, file) < count || ferror(file) != 0) && writeError == nil { writeError = errno }
        Self.writesDone.add(1, ordering: .relaxed)
        if let start = lineStart, start < count { lineStart = nil } else { lineStart = 0 }   // nil: a line cut in two
        count = 0
    }

    /// Ends a line: appends "\n", and flushes when per-line flushing is on.
    @inline(__always)
    public func endLine() {
        if let lineSink {
            write()
            lineSink(Array(partialLine[...]))   // a copy of its own size (the hub keeps it); the buffer is reused
            partialLine.removeAll(keepingCapacity: true)
            return
        }
        if let wrapper, let start = lineStart,
           let wrapped = wrapper.wrap(UnsafeBufferPointer(start: storage + start, count: count - start)[...].map { $0 }[...]) {
            count = start
            lineStart = nil   // the wrapped line may not fit the buffer: it is written out as it comes
            bytes(wrapped)
        }
        byte(0x0A)
        lineStart = count
        if flushesEachLine || count > capacity - 512 { flush() }
    }

    @inline(__always)
    private func reserve(_ bytes: Int) {
        if count + bytes > capacity { write() }
    }

    @inline(__always)
    public func byte(_ value: UInt8) {
        reserve(1)
        storage[count] = value
        count += 1
    }

    /// Appends a literal (no allocation, no UTF-8 validation).
    @inline(__always)
    public func ascii(_ text: StaticString) {
        let length = text.utf8CodeUnitCount
        if length > capacity { return string(text.description) }
        reserve(length)
        (storage + count).update(from: text.utf8Start, count: length)
        count += length
    }

    /// Appends text that came from outside (a recording's sidecar: a label, a program's line, a
    /// kernel reason) with every C0 and C1 control character and DEL as `\xNN`, as tcpdump's `-A`
    /// prints a dot: a file cannot retitle the teacher's window, clear the screen or write the
    /// clipboard (OSC 52). Our own colour codes are written by the palette, never through here.
    public func untrusted(_ text: String) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x20 || (0x7F...0x9F).contains(value) {
                bytes([0x5C, 0x78, hex[Int(value >> 4)], hex[Int(value & 0xF)]])   // \xNN
            } else {
                var utf8 = [UInt8]()
                utf8.reserveCapacity(4)
                for unit in String(scalar).utf8 { utf8.append(unit) }
                bytes(utf8)
            }
        }
    }

    /// Appends bytes, in pieces no larger than the buffer.
    public func bytes(_ values: [UInt8]) {
        var offset = 0
        while offset < values.count {
            let chunk = min(values.count - offset, capacity)
            reserve(chunk)
            values.withUnsafeBufferPointer { (storage + count).update(from: $0.baseAddress! + offset, count: chunk) }
            count += chunk
            offset += chunk
        }
    }

    /// Appends a String's UTF-8 bytes.
    public func string(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let start = bytes.baseAddress else { return }   // nil only for ""
            var offset = 0
            while offset < bytes.count {
                let chunk = min(bytes.count - offset, capacity)
                reserve(chunk)
                (storage + count).update(from: start + offset, count: chunk)
                count += chunk
                offset += chunk
            }
        }
    }

    /// Appends an integer in decimal.
    @inline(__always)
    public func decimal<T: BinaryInteger>(_ value: T) {
        var number = UInt64(truncatingIfNeeded: value)
        // Wrapping negation: Int64.min's magnitude, 2^63, still fits the UInt64.
        if value < 0 { byte(45); number = UInt64(truncatingIfNeeded: 0 &- Int64(truncatingIfNeeded: value)) }
        reserve(20)
        var digits = 1
        var scan = number
        while scan >= 10 { scan /= 10; digits += 1 }
        var position = count + digits
        repeat {
            position -= 1
            storage[position] = UInt8(48 + number % 10)
            number /= 10
        } while number > 0
        count += digits
    }

    /// Appends `value` zero-padded to `width` digits (the fraction of a timestamp).
    @inline(__always)
    public func zeroPadded(_ value: Int, width: Int) {
        reserve(width)
        var number = max(0, value)
        var position = count + width
        while position > count {
            position -= 1
            storage[position] = UInt8(48 + number % 10)
            number /= 10
        }
        count += width
    }

    /// Appends an address in its text form (dotted quad, or RFC 5952 IPv6).
    @inline(__always)
    public func address(_ address: IPAddress) {
        reserve(Int(INET6_ADDRSTRLEN))
        storage.withMemoryRebound(to: CChar.self, capacity: capacity) { text in
            count += address.write(into: text + count)
        }
    }

    /// Appends a fixed-point number with `decimals` digits after the point (durations, RTTs).
    public func fixed(_ value: Double, decimals: Int) {
        let scale = [1.0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000][min(decimals, 9)]
        let scaled = (abs(value) * scale).rounded()
        guard scaled.isFinite, scaled < 9e18 else { return ascii("0") }
        let whole = Int64(scaled)
        if value < 0 && whole != 0 { byte(45) }
        decimal(whole / Int64(scale))
        if decimals > 0 {
            byte(46)
            zeroPadded(Int(whole % Int64(scale)), width: decimals)
        }
    }
}
