@preconcurrency import Glibc
import SocketCore

/// Sends one message and reads its echo back, checking every byte.
///
/// The obvious order, sendall() then a recv() loop, deadlocks once the message is larger than
/// the kernel buffers between us: the server blocks sending the echo because we do not read, so
/// it stops reading, so our sendall() blocks too. Here the socket is non-blocking and poll(2)
/// tells us, turn by turn, whether we may send more (POLLOUT) or have echo to read (POLLIN),
/// so both directions keep moving whatever the size.
struct EchoExchange {
    let socket: Socket
    let message: [UInt8]
    /// Bytes asked of each recv().
    let recvSize: Int
    /// Print one summary line instead of each chunk.
    let quiet: Bool
    /// `--timeout`: seconds without progress before giving up (0: wait forever).
    let timeout: Double

    func run() throws {
        let started = Clock.monotonicNanoseconds()
        let peer = socket.peerAddress.map { "\($0)" } ?? "the server"   // getpeername() fails once the server has closed
        if !quiet, let local = socket.localAddress, let remote = socket.peerAddress {
            Console.line("client connected to \(remote) from \(local)")
        }
        try socket.setNonBlocking()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: recvSize, alignment: 16)
        defer { chunk.deallocate() }
        var poller = Poller()
        var sent = 0, received = 0

        while received < message.count {
            poller.watch(socket.descriptor, events: Int16(POLLIN) | (sent < message.count ? Int16(POLLOUT) : 0))
            let ready = try poller.wait(timeoutMilliseconds: timeout > 0 ? Int32(timeout * 1000) : -1)
            guard let event = ready.first else {
                throw EchoMismatch(description: "timed out: nothing moved for \(timeout) s (--timeout); "
                                                + "\(received) of \(message.count) bytes echoed")
            }

            if event.isWritable && sent < message.count {
                sent += try sendSome(from: sent)
            }
            if event.isReadable || event.isHangUpOrError {
                guard let count = try socket.recvIfReady(into: chunk) else { continue }
                if count == 0 {
                    throw EchoMismatch(description:
                        "the server closed the connection after echoing \(received) of \(message.count) bytes")
                }
                let got = UnsafeRawBufferPointer(rebasing: chunk[..<count])
                try EchoExchange.check(got, at: received, against: message)
                received += count
                if !quiet { Console.line("client Received: \(Console.bytesLiteral(got))") }
            }
        }

        try awaitServerClose(&poller, into: chunk)

        if quiet {
            let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
            Console.line("client echoed \(message.count) bytes from \(peer) in \(EchoExchange.formatted(seconds)) s, byte for byte")
        }
        Console.line("closing connection to the server")
    }

    /// Every byte is back; now make sure nothing more comes. shutdown(SHUT_WR) sends our FIN
    /// ("no more data"); an echo server answers with its own FIN once it has echoed everything,
    /// and our recv() returns 0. A byte before that FIN is one the server made up: without this
    /// check, "hello" echoed as "helloEXTRA" passed whenever the chunks split after "hello".
    /// A server that keeps the connection open after our FIN is given 2 s, then we close anyway.
    private func awaitServerClose(_ poller: inout Poller, into chunk: UnsafeMutableRawBufferPointer) throws {
        do {
            try socket.shutdownWrite()
        } catch let error as SocketError where error.isPeerGone {
            return   // the server has already reset the connection: nothing more can come
        }
        poller.watch(socket.descriptor, events: Int16(POLLIN))
        let giveUp = Clock.monotonicNanoseconds() + 2_000_000_000
        while true {
            let now = Clock.monotonicNanoseconds()
            guard now < giveUp else { return }
            let ready = try poller.wait(timeoutMilliseconds: Int32((giveUp - now) / 1_000_000) + 1)
            guard !ready.isEmpty else { continue }
            let count: Int
            do {
                guard let received = try socket.recvIfReady(into: chunk) else { continue }
                count = received
            } catch let error as SocketError where error.isPeerGone {
                return   // a reset after the whole echo: nothing more was sent
            }
            if count == 0 { return }   // the server's FIN: the echo was exactly what we sent
            throw EchoMismatch(description: "the server sent back more bytes than were sent "
                                            + "(\(message.count + count) > \(message.count))")
        }
    }

    /// One send() of what is left (EAGAIN counts as 0: the send buffer filled meanwhile).
    private func sendSome(from offset: Int) throws -> Int {
        try message.withUnsafeBytes { all in
            try socket.sendIfReady(UnsafeRawBufferPointer(rebasing: all[offset...])) ?? 0
        }
    }

    /// Compares a received chunk with the bytes of `message` sent at the same offset.
    static func check(_ got: UnsafeRawBufferPointer, at offset: Int, against message: [UInt8]) throws {
        guard offset + got.count <= message.count else {
            throw EchoMismatch(description: "the server sent back more bytes than were sent (\(offset + got.count) > \(message.count))")
        }
        try message.withUnsafeBytes { all in
            let expected = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + got.count)])   // got.count > 0: recv() returned bytes
            if memcmp(expected.baseAddress!, got.baseAddress!, got.count) != 0 {
                let index = (0..<got.count).first { expected[$0] != got[$0] } ?? 0
                throw EchoMismatch(description: "the echo differs from what was sent at byte \(offset + index)")
            }
        }
    }

    static func formatted(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
