import Foundation
@testable import HandshakeKit
import Testing
import TestSupport
import SocketCore
import Timeline

/// `--format ladder` draws the traced programs' calls beside the arrows: each hangs (`+-`) from
/// the column of its process's end, and a call that spans arrows comes in two halves around them.
@Suite struct LadderCallsTests {
    static let echo = packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path
    /// Where the client's bar is on a line (after `#1 ` or three spaces, the time and ` ms `),
    /// and the server's, 48 columns to its right.
    static let clientBar = 16, serverBar = 64

    /// The character at `column` (0-based) of `line`, if it is that long.
    static func at(_ line: String, _ column: Int) -> Character? {
        line.count > column ? line[line.index(line.startIndex, offsetBy: column)] : nil
    }

    /// The ms time of a line (`#1   365.130 ms |-- ...`, `     0.430 ms | ...`); nil for the
    /// header, the summary and continuation lines.
    static func time(_ line: String) -> Double? {
        guard line.dropFirst(12).hasPrefix(" ms ") else { return nil }
        return line.prefix(12).split(separator: " ").last.flatMap { Double($0) }
    }

    @Test("echo-ipv4: connect() on the client's column spans SYN, SYN-ACK and ACK; accept() on the server's")
    func replayPutsCallsOnTheirSides() throws {
        let run = try runCommand("handshake-watch", ["-r", Self.echo, "--format", "ladder"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout
        func index(_ words: String) throws -> Int { try #require(lines.firstIndex { $0.contains(words) }, "\(words): \(lines)") }
        let connect = try index("[client] connect(fd 3, 127.0.0.1:37651) ...")
        let connected = try index("[client] ... connect() -> 0 <0.004924>")
        let accept = try index("[server] accept(fd 3) ...")
        let accepted = try index("[server] ... accept() -> fd 4 from 127.0.0.1:53864 <0.335962>")
        let syn = try index("|-- SYN seq 0 "), synAck = try index("|<-- SYN,ACK seq 0 ack 1 "), ack = try index("|-- ACK seq 1 ack 1 ")
        #expect(accept < connect && connect < syn && syn < synAck && synAck < ack && ack < connected && ack < accepted)
        // The client's calls hang from the left bar, the server's from the right one.
        for number in [connect, connected] { #expect(lines[number].dropFirst(Self.clientBar).hasPrefix("+- [client] "), "\(lines[number])") }
        for number in [accept, accepted] {
            #expect(Self.at(lines[number], Self.clientBar) == "|" && lines[number].dropFirst(Self.serverBar).hasPrefix("+- [server] "), "\(lines[number])")
        }
        #expect(Self.at(lines[syn], Self.clientBar) == "|" && Self.at(lines[syn], Self.serverBar) == "|")
        // Later calls on the descriptors and the processes' output follow them.
        #expect(lines[try index("[server] recv(fd 4, 2048) ...")].dropFirst(Self.serverBar).hasPrefix("+- "))
        #expect(lines[try index("[server] server Connected by 127.0.0.1:53864")].dropFirst(Self.serverBar).hasPrefix("+- "))
        #expect(lines[try index("[client] shutdown(fd 3, SHUT_WR) ...")].dropFirst(Self.clientBar).hasPrefix("+- "))
        // Before listen() nothing says which end the server is: its socket() is on neither column.
        let socket = lines[try index("[server] socket(AF_INET, SOCK_STREAM) -> fd 3")]
        #expect(!socket.contains("|") && !socket.contains("+-"), "\(socket)")
        // Times count from the first line drawn (the server's socket()) and only go down.
        let times = lines.compactMap(Self.time)
        #expect(times.first == 0 && times.count > 50, "\(times)")
        #expect(times == times.sorted(), "\(times)")
        // The arrows are drawn as without the calls (lesson 3's expectations).
        #expect(lines[syn].hasSuffix("|-- SYN seq 0 win 65495 ----------------------->| 1/3 connect() sends SYN, blocks"))
    }

    @Test("--width 80: no line is longer; a server call's words go under its hook, nothing is lost")
    func replayFitsTheWidth() throws {
        let fitted = try runCommand("handshake-watch", ["-r", Self.echo, "--format", "ladder", "--width", "80"])
        #expect(fitted.status == 0)
        for line in fitted.stdout { #expect(LineWrapper.columns(Array(line.utf8)) <= 80, "\(line)") }
        let hook = try #require(fitted.stdout.firstIndex { $0.hasSuffix(" ms |" + String(repeating: " ", count: 47) + "+-") })
        #expect(fitted.stdout[hook + 1] == String(repeating: " ", count: 20) + "[server] listen(fd 3, backlog 5) -> 0 <0.000005>")
        let connect = try #require(fitted.stdout.first { $0.contains("[client] connect(fd 3, 127.0.0.1:37651) ...") })
        #expect(connect.dropFirst(Self.clientBar).hasPrefix("+- ") && connect.hasSuffix("|"), "the server's bar after the client's words")
        let whole = try runCommand("handshake-watch", ["-r", Self.echo, "--format", "ladder"])
        let squeeze = { (lines: [String]) in lines.joined().filter { $0 != " " } }
        #expect(squeeze(fitted.stdout) == squeeze(whole.stdout))
    }

    private static func call(_ name: String, _ text: String, pid: Int = 10, _ extra: [(String, JSONValue)] = []) -> TimelineEvent {
        TimelineEvent(type: "syscall", time: EpochTime(seconds: 1, microseconds: 0),
                      fields: [("label", .string("p \(pid)")), ("pid", .integer(pid)), ("call", .string(name))] + extra + [("text", .string(text))])
    }

    @Test("the side comes from evidence: listen, accept, connect to an address, a descriptor's and a lane's past")
    func sidesFromEvidence() {
        var sides = CallSides()
        #expect(sides.side(of: Self.call("socket", "socket(AF_INET, SOCK_STREAM) -> fd 3")) == nil)
        // libc asking nscd over a Unix socket is no TCP client.
        #expect(sides.side(of: Self.call("connect", "connect(fd 5, \"/var/run/nscd/socket\") -> ENOENT (No such file or directory)")) == nil)
        #expect(sides.side(of: Self.call("close", "close(fd 5) -> 0")) == nil)
        #expect(sides.side(of: Self.call("listen", "listen(fd 3, backlog 5) -> 0")) == .server)
        #expect(sides.side(of: Self.call("accept", "accept(fd 3) -> fd 4 from 127.0.0.1:53864")) == .server)
        #expect(sides.side(of: Self.call("recv", "recv(fd 4, 2048) -> 5")) == .server)
        let output = TimelineEvent(type: "output", time: EpochTime(seconds: 1, microseconds: 0),
                                   fields: [("label", .string("p 10")), ("stream", .string("stdout")), ("text", .string("hi"))])
        #expect(sides.side(of: output) == .server, "an output line is in its label's lane")
        // One process playing both ends, its roles as labels (captures/syn-backlog): the client's
        // socket() is not the server's, though the process listens.
        let clientSocket = TimelineEvent(type: "syscall", time: EpochTime(seconds: 1, microseconds: 0), fields: [
            ("label", .string("client")), ("pid", .integer(10)), ("call", .string("socket")), ("text", .string("socket(AF_INET, SOCK_STREAM) -> fd 9"))])
        #expect(sides.side(of: clientSocket) == nil)
        // Another process: a client by its connect(), on that descriptor.
        #expect(sides.side(of: Self.call("connect", "connect(fd 3, [::1]:5000) ...", pid: 20, [("part", .string("start"))])) == .client)
        #expect(sides.side(of: Self.call("send", "send(fd 3, 5 bytes) -> 5", pid: 20)) == .client)
        // One process on both ends (a proxy): its descriptors are placed, the rest on neither.
        #expect(sides.side(of: Self.call("connect", "connect(fd 7, 10.0.0.2:80) -> 0", pid: 10)) == .client)
        #expect(sides.side(of: Self.call("recv", "recv(fd 4, 2048) -> 5")) == .server)
        #expect(sides.side(of: Self.call("write", "write(fd 1, \"x\\n\", 2) -> 2")) == nil)
        // A closed descriptor's side is forgotten; a port the listener has is the server's.
        #expect(sides.side(of: Self.call("close", "close(fd 4) -> 0")) == .server)
        #expect(sides.side(of: Self.call("recv", "recv(fd 4, 2048) -> 5")) == nil)
        var bound = CallSides()
        _ = bound.side(of: Self.call("bind", "bind(fd 3, 127.0.0.1:5000) -> 0", pid: 30))
        #expect(bound.side(of: Self.call("listen", "listen(fd 3, backlog 5) -> 0", pid: 30)) == .server)
        #expect(bound.side(of: Self.call("sendto", "sendto(fd 9, 1 bytes) -> 1", pid: 40, [("rport", .integer(5000))])) == .client)
    }
}
