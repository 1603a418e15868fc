import SocketCore

/// The writing side of a connection (Python's `wfile`), with one buffer in front of send(2).
///
/// Status line, headers and a small body collect in the buffer and leave in a single send():
/// one system call and, usually, one TCP segment per response. Large files skip the buffer
/// and go from the page cache to the socket with sendfile(2).
public final class ConnectionWriter {
    let socket: Socket
    /// Allocated at the first write: an idle connection costs no buffer.
    private var storage = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private let capacity: Int
    private var count = 0

    public init(socket: Socket, capacity: Int = 32 * 1024) {
        self.socket = socket
        self.capacity = capacity
    }

    deinit { storage.deallocate() }

    /// Free room in the buffer: a file body this small is read into it rather than sendfile'd.
    public var spaceLeft: Int { capacity - count }

    private func allocateIfNeeded() {
        if storage.count == 0 { storage = .allocate(byteCount: capacity, alignment: 16) }
    }

    /// Queues bytes; sends the buffer first when they do not fit, and big writes directly.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if bytes.count > spaceLeft {
            try flush()
            if bytes.count > capacity {
                try socket.sendAll(bytes)
                return
            }
        }
        allocateIfNeeded()
        UnsafeMutableRawBufferPointer(rebasing: storage[count...]).copyMemory(from: bytes)
        count += bytes.count
    }

    /// Queues an array's bytes.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Queues a string's UTF-8 bytes.
    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Appends `length` bytes of a file from `offset` to the buffer with pread(2), so a small
    /// file leaves in the same send() as its headers. `length` must fit in `spaceLeft`.
    public func writeFile(_ fd: Int32, offset: Int, length: Int) throws {
        precondition(length <= spaceLeft, "writeFile beyond the buffer")
        allocateIfNeeded()
        var done = 0
        while done < length {
            let n = try FileSystem.pread(fd, into: UnsafeMutableRawBufferPointer(rebasing: storage[(count + done)..<(count + length)]),
                                         offset: offset + done)
            if n == 0 {   // the file shrank since fstat(): the response cannot be completed
                throw SocketError(call: "pread", codeName: "EOF", reason: "file shrank while being sent")
            }
            done += n
        }
        count += length
    }

    /// Sends buffered bytes (with MSG_MORE: the file follows), then the file with sendfile(2),
    /// looping over partial sends as `sendAll` does. The socket is blocking: a client that
    /// stops reading holds this thread until SO_SNDTIMEO expires.
    public func sendFile(_ fd: Int32, offset: Int, length: Int) throws {
        var sent = 0
        while sent < count {
            sent += try Syscall.sendMore(socket.descriptor, UnsafeRawBufferPointer(rebasing: storage[sent..<count]))
        }
        count = 0
        var position = offset
        let end = offset + length
        while position < end {
            let n = try Syscall.sendfile(socket.descriptor, from: fd, offset: &position, count: min(end - position, 1 << 30))
            if n == 0 { throw SocketError(call: "sendfile", codeName: "EOF", reason: "file shrank while being sent") }
        }
    }

    /// Sends everything buffered (Python's `wfile.flush()`).
    public func flush() throws {
        guard count > 0 else { return }
        defer { count = 0 }
        try socket.sendAll(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

}
