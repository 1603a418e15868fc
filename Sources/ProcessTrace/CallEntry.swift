/// A system call seen at its entry stop: its arguments read before it runs (a sockaddr, the bytes
/// a send() hands over), and what the tracer will make of it.
public struct CallEntry: Sendable {
    public var name: String
    public var arguments: [UInt64]
    /// `connect(fd 3, 127.0.0.1:5000)`: the call as written, before its result is known.
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
