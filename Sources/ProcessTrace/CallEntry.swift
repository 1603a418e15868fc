/// A system call seen at its entry stop: its arguments read before it runs (a sockaddr, the bytes
/// a send() hands over), and what the tracer will make of it.
///
/// Made in two halves (`CallDecoder.readEntry`, then `formatEntry`): the first copies what the
/// line needs while the program is stopped, the second writes `text` once it runs again.
public struct CallEntry: Sendable {
    public var name: String
    public var arguments: [UInt64]
    /// `connect(fd 3, 127.0.0.1:5000)`: the call as written, before its result is known.
    /// Empty until `CallDecoder.formatEntry` has written it.
    public var text: String
    /// The descriptor the call is about, when it has one.
    public var fd: Int32?
    /// False for calls the timeline leaves out (a read(2) of a file, a close(2) of a pipe).
    public var shown: Bool
    /// A write(2) to stdout or stderr that is not a socket: its bytes become `output` lines.
    public var outputStream: String?
    public var outputBytes: [UInt8] = []
    /// The address in the arguments (bind, connect, sendto's destination).
    public var address: SockaddrText?
    /// For close(2) of a socket: what the table knew of it, before the call forgets it.
    public var closedSocket: DescriptorTable.Entry?
    /// What the entry stop copied from the program's memory for the line.
    public var memory = EntryMemory()

    public init(name: String, arguments: [UInt64], text: String, fd: Int32?, shown: Bool) {
        self.name = name
        self.arguments = arguments
        self.text = text
        self.fd = fd
        self.shown = shown
    }

    /// The argument `index` as a signed descriptor (C's `int`).
    func int(_ index: Int) -> Int32 { Int32(truncatingIfNeeded: arguments[index]) }
}

/// The program's memory that an entry stop copies for the line. It is read while the thread is
/// stopped (once it runs, the program may change or free it) and turned into text only after
/// the thread is resumed: the program does not wait for our formatting.
public struct EntryMemory: Sendable {
    /// The bytes the line shows, by call: what sendto(2) or write(2) hands over (at most the
    /// quote limit), setsockopt(2)'s option value (at most 16 bytes), poll(2)'s `struct pollfd`
    /// array (at most 8), epoll_ctl(2)'s events word.
    public var bytes: [UInt8]?
    /// sendmsg(2), recvmsg(2): the total length of the message's buffers.
    public var messageLength: Int?
    /// execve(2): the program's path and its argv (at most 16 entries).
    public var path: String?
    public var argv: [String] = []
    /// clone3(2): the flags word of its `struct clone_args`.
    public var cloneFlags: UInt64 = 0

    public init() {}
}

/// A call as its exit stop found it: the result, the bytes the kernel wrote back that the line
/// shows (recvfrom's data, accept's peer), and the socket's ends as the table knows them then.
/// `CallDecoder.formatExit` writes the line from it after the thread is resumed.
public struct CallReturn: Sendable {
    public var result: Int64
    public var bytes: [UInt8]?
    public var local: DescriptorTable.Endpoint?
    public var remote: DescriptorTable.Endpoint?

    /// A result from -4095 to -1 is an error: minus its errno.
    public var failed: Bool { result < 0 && result >= -4095 }
}

/// The same call at its exit stop: the line and the fields of its `syscall` event.
public struct CallExit: Sendable {
    /// `connect(fd 3, 127.0.0.1:5000) -> 0`
    public var text: String
    /// The result: a number, or the errno name (`ECONNREFUSED`).
    public var result: ResultValue
    public var local: DescriptorTable.Endpoint?
    public var remote: DescriptorTable.Endpoint?

    public enum ResultValue: Sendable, Equatable {
        case number(Int64)
        case error(String)
    }
}
