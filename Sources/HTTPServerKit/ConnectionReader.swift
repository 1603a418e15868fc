@preconcurrency import Glibc
import SocketCore

/// The reading side of a connection (Python's `rfile`): recv(2) into one buffer, then hand out
/// lines, so a request head that arrives in many small pieces, or several pipelined requests
/// that arrive in one, are read the same way.
public final class ConnectionReader {
    /// Why reading stopped early.
    public enum Failure: Error {
        /// The client sent nothing for the receive timeout (SO_RCVTIMEO), or took longer than
        /// the whole-request deadline to finish a request head (a slowloris client).
        case timedOut
    }

    let socket: Socket
    /// Allocated at the first recv(): a connection that never sends costs no buffer.
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var start = 0
    private var end = 0
    private let initialCapacity: Int
    private let maximumCapacity: Int
    /// Monotonic nanoseconds after which a head still arriving is given up on (0: no deadline).
    private var deadline: UInt64 = 0
    /// Whether at least one byte of the current request has been received.
    public private(set) var sawRequestBytes = false
    /// Bytes handed out so far (lines, reads and skips): where the reader is in the stream, so
    /// the handler knows how much of a request body a method already read.
    public private(set) var position = 0

    /// `capacity` is the starting buffer; it grows to fit one line of `maximumLine` bytes.
    public init(socket: Socket, capacity: Int = 8192, maximumLine: Int = 65537) {
        self.socket = socket
        initialCapacity = capacity
        maximumCapacity = maximumLine + 2
    }

    deinit { storage.deallocate() }

    /// Bytes received but not read yet (the start of a pipelined request, or an unread body).
    public var bufferedCount: Int { end - start }

    /// Starts the clock for one request head: all of it must arrive within `seconds`.
    public func beginRequest(deadlineSeconds seconds: Double) {
        deadline = seconds > 0 ? Clock.monotonicNanoseconds() + UInt64(seconds * 1e9) : 0
        sawRequestBytes = bufferedCount > 0
    }

    /// Python's `rfile.readline(limit)`: the next line with its `\n` (and `\r`), or at most `limit`
    /// bytes when no newline comes first (the caller treats that as "too long"). At end of
    /// stream, whatever is left, then an empty array.
    public func readLine(limit: Int) throws -> [UInt8] {
        var scanned = 0   // bytes after `start` already searched (fill() may move `start`)
        while true {
            if let newline = find(UInt8(ascii: "\n"), from: start + scanned) {
                let length = min(newline + 1 - start, limit)
                return take(length)
            }
            if end - start >= limit { return take(limit) }
            scanned = end - start
            if try fill() == 0 { return take(end - start) }
        }
    }

    /// Up to `count` bytes (fewer only at end of stream): Python's `rfile.read(count)`,
    /// for a handler's `doPOST` that reads the body itself.
    public func read(count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        while result.count < count {
            if start == end, try fill() == 0 { break }
            let piece = min(count - result.count, end - start)
            result.append(contentsOf: UnsafeRawBufferPointer(rebasing: storage[start..<(start + piece)]))
            start += piece
            position += piece
        }
        return result
    }

    /// Reads and drops `count` bytes (a request body nobody asked for). False at end of stream.
    public func skip(_ count: Int) throws -> Bool {
        var left = count
        while left > 0 {
            if start == end, try fill() == 0 { return false }
            let piece = min(left, end - start)
            start += piece
            position += piece
            left -= piece
        }
        return true
    }

    // MARK: - Reading without waiting

    /// One recv(2) with MSG_DONTWAIT into the buffer: the bytes that arrived (0 at end of
    /// stream), or nil when none have. A server that watches many connections with epoll calls
    /// this when one is readable, and starts the handler only once `holdsRequestHead`.
    public func receiveAvailable() throws -> Int? {
        makeRoom()
        guard end < storage.count else { return nil }   // full: the handler takes it from here
        let free = UnsafeMutableRawBufferPointer(rebasing: storage[end...])
        guard let count = try Syscall.recvIfReady(socket.descriptor, into: free) else { return nil }
        end += count
        return count
    }

    /// Whether the buffer holds what the handler needs to answer without waiting: a whole
    /// request head (up to its empty line), or a first line that has no headers to follow (an
    /// HTTP/0.9 request, a malformed line), or as many bytes as a line may have (it answers
    /// 414 or 431 to those).
    public var holdsRequestHead: Bool {
        guard end > start else { return false }
        if end - start >= maximumCapacity - 2 { return true }
        guard let firstEnd = find(UInt8(ascii: "\n"), from: start) else { return false }
        var index = firstEnd
        while let newline = find(UInt8(ascii: "\n"), from: index + 1) {
            let line = newline - index - 1
            if line == 0 || (line == 1 && storage[index + 1] == 0x0D) { return true }
            index = newline
        }
        let first = UnsafeRawBufferPointer(rebasing: storage[start..<firstEnd])
        return !RequestParser.mayHaveHeaders(requestLine: first)
    }

    // MARK: - The buffer

    /// One recv(2) into the free end of the buffer, making room first. Returns 0 at end of stream.
    private func fill() throws -> Int {
        if deadline != 0 && Clock.monotonicNanoseconds() > deadline { throw Failure.timedOut }
        makeRoom()
        let free = UnsafeMutableRawBufferPointer(rebasing: storage[end...])
        guard let count = try socket.recvIfReady(into: free) else {
            throw Failure.timedOut   // SO_RCVTIMEO expired: recv() returned EAGAIN
        }
        end += count
        if count > 0 { sawRequestBytes = true }
        return count
    }

    /// Frees space at the end of the buffer: allocates it, moves unread bytes to the front, or
    /// doubles it up to the longest line allowed.
    private func makeRoom() {
        if storage.count == 0 {
            storage = .allocate(byteCount: initialCapacity, alignment: 16)
        }
        if start == end {
            start = 0
            end = 0
        } else if end == storage.count {
            if start > 0 {
                // Move the unread bytes to the front: memmove, since the ranges may overlap.
                memmove(storage.baseAddress!, storage.baseAddress! + start, end - start)
                end -= start
                start = 0
            } else if storage.count < maximumCapacity {
                let bigger = UnsafeMutableRawBufferPointer.allocate(
                    byteCount: min(storage.count * 2, maximumCapacity), alignment: 16)
                bigger.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<end]))
                storage.deallocate()
                storage = bigger
            }
        }
    }

    private func find(_ byte: UInt8, from index: Int) -> Int? {
        guard index < end else { return nil }
        guard let found = memchr(storage.baseAddress! + index, Int32(byte), end - index) else { return nil }
        return found - UnsafeMutableRawPointer(storage.baseAddress!)
    }

    private func take(_ count: Int) -> [UInt8] {
        let bytes = Array(UnsafeRawBufferPointer(rebasing: storage[start..<(start + count)]))
        start += count
        position += count
        return bytes
    }
}
