@preconcurrency import Glibc
import Dispatch
import SocketCore
import Synchronization

/// `--load`: measures a server by keeping `connections` sockets busy for `duration` seconds,
/// each on its own thread, and reports one line per connection, then the totals:
///
///     connection 1: 41234 round trips  p50: 23.1 us  p99: 61.0 us
///     connection 2: never served (no echo in 1.0 s)
///     round trips/s: 41234  p50: 23.1 us  p99: 61.0 us  errors: 0  served: 1 of 2 connections
///
/// A server that serves one client at a time (iterative) leaves the others waiting in its accept
/// queue: their connect() succeeded, but no echo ever came. `served` counts the connections that
/// got at least one echo, so such a run cannot pass for a healthy one.
///
/// Ping-pong (the default): send `size` bytes, wait until all of them are back, repeat; each
/// round trip is timed. Streaming (`--stream`): send and receive at once, as fast as the server
/// echoes, and report the echoed megabytes per second (`MB/s: 812.4  errors: 0`).
struct LoadGenerator {
    /// Ping-pong sends a whole message before reading its echo, so it must fit the kernel buffers
    /// between client and server (several hundred KiB on loopback) or both sides would block.
    static let maximumSize = 256 * 1024

    let host: String
    let port: Int
    let connections: Int
    let duration: Double
    let size: Int
    let stream: Bool

    /// What one connection measured.
    struct Tally: Sendable {
        var roundTrips = 0
        var bytesEchoed = 0
        var errors = 0
        /// Round-trip times in nanoseconds (ping-pong only).
        var latencies: [UInt32] = []

        /// True when at least one echo came back on this connection.
        var wasServed: Bool { roundTrips > 0 || bytesEchoed > 0 }
    }

    /// The lines to print (one per connection, then the totals) and the error count.
    struct Report {
        let lines: [String]
        let errors: Int
    }

    func run() throws -> Report {
        // Connect everything first, so connection set-up is not part of the measurement. A server
        // that stops accepting (iterative, once its listen backlog is full) leaves connect()
        // waiting on SYN retries: give up after the run's own duration instead of hanging.
        var sockets: [Socket] = []
        for number in 1...connections {
            let socket: Socket
            do {
                socket = try Socket.connected(host: host, port: port, timeout: max(duration, 1))
            } catch let error as SocketError where error.errno == .timedOut {
                throw EchoMismatch(description: "connection \(number) of \(connections): \(error); "
                                                + "the server accepts no more (a full listen backlog?)")
            }
            try socket.setNoDelay()
            sockets.append(socket)
        }
        let tallies = Mutex<[Tally?]>(Array(repeating: nil, count: sockets.count))
        let finished = DispatchSemaphore(value: 0)
        let deadline = Clock.monotonicNanoseconds() + UInt64(duration * 1e9)
        let size = self.size, stream = self.stream
        for (index, socket) in sockets.enumerated() {
            try Threads.detach {
                let tally = stream ? LoadGenerator.streaming(socket, size: size, until: deadline)
                                   : LoadGenerator.pingPong(socket, size: size, until: deadline)
                try? socket.close()
                tallies.withLock { $0[index] = tally }
                finished.signal()
            }
        }
        for _ in sockets { finished.wait() }
        return tallies.withLock { report(for: $0.map { $0 ?? Tally() }) }
    }

    private func report(for tallies: [Tally]) -> Report {
        let errors = tallies.reduce(0) { $0 + $1.errors }
        let served = "served: \(tallies.filter(\.wasServed).count) of \(tallies.count) connection"
                     + (tallies.count == 1 ? "" : "s")
        var lines = tallies.enumerated().map { "connection \($0.offset + 1): " + summary(of: $0.element) }
        if stream {
            let megabytes = Double(tallies.reduce(0) { $0 + $1.bytesEchoed }) / 1_000_000
            lines.append("MB/s: \(decimal(megabytes / duration))  errors: \(errors)  \(served)")
            return Report(lines: lines, errors: errors)
        }
        var latencies = tallies.flatMap(\.latencies)
        latencies.sort()
        let roundTrips = tallies.reduce(0) { $0 + $1.roundTrips }
        lines.append("round trips/s: \(Int((Double(roundTrips) / duration).rounded()))"
                     + "  \(percentiles(latencies))  errors: \(errors)  \(served)")
        return Report(lines: lines, errors: errors)
    }

    /// One connection's line: its round trips and latency, its MB/s, or that it never got an echo.
    private func summary(of tally: Tally) -> String {
        guard tally.wasServed else {
            return "never served (no echo in \(decimal(duration)) s)" + (tally.errors > 0 ? ", failed" : "")
        }
        let failed = tally.errors > 0 ? ", then failed" : ""
        if stream { return "MB/s: \(decimal(Double(tally.bytesEchoed) / 1_000_000 / duration))" + failed }
        return "\(tally.roundTrips) round trips  \(percentiles(tally.latencies.sorted()))" + failed
    }

    /// `p50: 23.1 us  p99: 61.0 us` of sorted round-trip times.
    private func percentiles(_ sorted: [UInt32]) -> String {
        "p50: \(decimal(percentile(sorted, 50))) us  p99: \(decimal(percentile(sorted, 99))) us"
    }

    /// The value below which `percent` % of the sorted samples lie, in microseconds.
    private func percentile(_ sorted: [UInt32], _ percent: Int) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let index = min(sorted.count - 1, sorted.count * percent / 100)
        return Double(sorted[index]) / 1000
    }

    private func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: - One connection

    /// send(size bytes) → recv until size bytes are back → record the time → again.
    static func pingPong(_ socket: Socket, size: Int, until deadline: UInt64) -> Tally {
        var tally = Tally()
        tally.latencies.reserveCapacity(100_000)
        let message = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        defer { reply.deallocate() }
        do {
            try socket.setReceiveTimeout(seconds: 0.25)
            try message.withUnsafeBytes { message in
                while true {
                    let start = Clock.monotonicNanoseconds()
                    if start >= deadline { return }
                    try socket.sendAll(message)
                    var received = 0
                    while received < size {
                        guard let count = try socket.recvIfReady(into: UnsafeMutableRawBufferPointer(rebasing: reply[received...])) else {
                            // SO_RCVTIMEO expired: a server that serves one client at a time
                            // (iterative) may never answer this one; stop at the deadline.
                            if Clock.monotonicNanoseconds() >= deadline { return }
                            continue
                        }
                        if count == 0 { throw EchoMismatch(description: "the server closed the connection") }
                        received += count
                    }
                    // Only round trips that end within the run count: an echo that comes after
                    // the deadline (the iterative server reaching a waiting client once the first
                    // one has left) is not part of what was measured.
                    let end = Clock.monotonicNanoseconds()
                    if end > deadline { return }
                    tally.latencies.append(UInt32(clamping: end - start))
                    tally.roundTrips += 1
                }
            }
        } catch {
            tally.errors += 1
        }
        return tally
    }

    /// Sends `size`-byte blocks whenever the socket is writable and reads whenever it is
    /// readable (poll(2) on a non-blocking socket), counting the bytes that come back.
    static func streaming(_ socket: Socket, size: Int, until deadline: UInt64) -> Tally {
        var tally = Tally()
        let block = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 65536), alignment: 16)
        defer { reply.deallocate() }
        var poller = Poller()
        var offset = 0   // how much of the current block has been sent
        do {
            try socket.setNonBlocking()
            poller.watch(socket.descriptor, events: Int16(POLLIN | POLLOUT))
            try block.withUnsafeBytes { block in
                while Clock.monotonicNanoseconds() < deadline {
                    for event in try poller.wait(timeoutMilliseconds: 100) {
                        if event.isWritable {
                            if let sent = try socket.sendIfReady(UnsafeRawBufferPointer(rebasing: block[offset...])) {
                                offset += sent
                                if offset == size { offset = 0 }
                            }
                        }
                        if event.isReadable || event.isHangUpOrError {
                            if let count = try socket.recvIfReady(into: reply) {
                                if count == 0 { throw EchoMismatch(description: "the server closed the connection") }
                                tally.bytesEchoed += count
                            }
                        }
                    }
                }
                try finishGracefully(socket, poller: &poller, into: reply)
            }
        } catch {
            tally.errors += 1
        }
        return tally
    }

    /// Ends a stream politely: our FIN, then read the echo still in flight until the server's
    /// FIN, so the server sees a normal end instead of the RST that closing with unread data sends.
    private static func finishGracefully(_ socket: Socket, poller: inout Poller,
                                         into buffer: UnsafeMutableRawBufferPointer) throws {
        try socket.shutdownWrite()
        poller.watch(socket.descriptor, events: Int16(POLLIN))
        let giveUp = Clock.monotonicNanoseconds() + 2_000_000_000
        while Clock.monotonicNanoseconds() < giveUp {
            for _ in try poller.wait(timeoutMilliseconds: 100) {
                if try socket.recvIfReady(into: buffer) == 0 { return }
            }
        }
    }
}
