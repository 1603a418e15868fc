import Foundation
import HandshakeKit
import Testing
import TestSupport
import Timeline

/// `--width N`: every line the class reads fits the projector, and nothing is lost: joining the
/// wrapped pieces gives back the whole lines.
@Suite struct WidthTests {
    static let captures: [String] = {
        let folder = packageRoot.appendingPathComponent("captures")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") }.sorted().map { folder.appendingPathComponent($0).path }
    }()

    @Test(arguments: [["--brief"], ["--format", "ladder"], []])
    func everyCaptureFitsEightyColumnsAndLosesNothing(mode: [String]) throws {
        #expect(!Self.captures.isEmpty)
        for capture in Self.captures {
            let whole = try runCommand("handshake-watch", ["-r", capture] + mode, timeout: 120)
            let fitted = try runCommand("handshake-watch", ["-r", capture, "--width", "80"] + mode, timeout: 120)
            #expect(whole.status == 0 && fitted.status == 0, "\(capture) \(mode)")
            for line in fitted.stdout {
                #expect(LineWrapper.columns(Array(line.utf8)) <= 80, "\(capture) \(mode): \(line.count) columns: \(line)")
            }
            // Unwrap: a continuation line starts with the 4-space indent and follows a cut at a space
            // (or inside a word with no space to cut at: compare without spaces, so both read back).
            let squeeze = { (lines: [String]) in lines.joined().filter { $0 != " " } }
            #expect(squeeze(fitted.stdout) == squeeze(whole.stdout), "\(capture) \(mode): the wrapped text differs")
            #expect(fitted.stdout.count >= whole.stdout.count)
        }
    }

    /// `--brief` is short without wrapping: on every IPv4 capture, its packet, kernel, link and
    /// summary lines fit 80 columns. A program's own calls and output (`[client] ...`,
    /// `[python3 4242] ...`) keep their length, as the program made them: `--width` wraps those.
    @Test func briefLinesFitEightyColumnsWithoutWrapping() throws {
        let programLine = try Regex(#"^\S+ \[(?!kernel\]|link\])[^\]]+\] "#)
        for capture in Self.captures where !capture.contains("ipv6") {
            let result = try runCommand("handshake-watch", ["-r", capture, "--brief"], timeout: 120)
            #expect(result.status == 0, "\(capture)")
            let wide = result.stdout.filter { LineWrapper.columns(Array($0.utf8)) > 80 && (try? programLine.prefixMatch(in: $0)) == nil }
            #expect(wide.isEmpty, "\(capture): \(wide.count) brief lines over 80 columns: \(wide.prefix(3))")
        }
        // The brief forms themselves: the explanation left out, the facts kept.
        let reset = try runCommand("handshake-watch", ["-r", packageRoot.appendingPathComponent("captures/linger-reset.pcap").path, "--brief"])
        #expect(reset.stdout.contains { $0.hasSuffix("[kernel] 127.0.0.1:39003 RST sent to 127.0.0.1:55458: TCP_STATE") }, "\(reset.stdout)")
        #expect(reset.stdout.contains { $0.hasSuffix("[kernel] 127.0.0.1:55458 CLOSE → SYN_SENT") })
        #expect(reset.stdout.contains { $0.hasSuffix("[client] recv(fd 5, 100) -> ECONNRESET <0.000005>") })
    }

    /// The ladder at 80 columns: an arrow whose caption does not fit keeps its line whole, and
    /// the caption goes under it, indented past the time.
    @Test func theLadderMovesACaptionUnderItsArrow() throws {
        let capture = packageRoot.appendingPathComponent("captures/lost-segment.pcap").path
        let fitted = try runCommand("handshake-watch", ["-r", capture, "--format", "ladder", "--width", "80"])
        let arrow = try #require(fitted.stdout.firstIndex { $0.hasSuffix("|-- PSH,ACK seq 1 ack 1 len 16 win 64512 ------>|") }, "\(fitted.stdout)")
        #expect(fitted.stdout[arrow + 1] == String(repeating: " ", count: 20) + "client send() → server recv()")
        let wide = try runCommand("handshake-watch", ["-r", capture, "--format", "ladder", "--width", "120"])
        let short = try #require(wide.stdout.first { $0.contains("|-- SYN seq 0 win 64240 ") })
        #expect(short.hasSuffix("| 1/3 connect() sends SYN, blocks"))   // fits in 120: on the arrow's line
    }

    @Test func theWrapperCutsAtSpacesAndCountsColumnsNotBytes() throws {
        let wrapper = LineWrapper(width: 20, indent: 4)
        let line = Array("#1 c→s [SYN] seq 0 len 0 win 65495 handshake 1/3".utf8)
        let wrapped = try #require(wrapper.wrap(line[...]))
        let pieces = String(decoding: wrapped, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(pieces.allSatisfy { LineWrapper.columns(Array($0.utf8)) <= 20 }, "\(pieces)")
        #expect(pieces.dropFirst().allSatisfy { $0.hasPrefix("    ") })
        #expect(pieces.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") == String(decoding: line, as: UTF8.self))
        #expect(LineWrapper.columns(Array("\u{1B}[32m→\u{1B}[0m".utf8)) == 1)
        #expect(wrapper.wrap(Array("short".utf8)[...]) == nil)
        let word = Array(String(repeating: "x", count: 50).utf8)
        let split = String(decoding: try #require(wrapper.wrap(word[...])), as: UTF8.self).split(separator: "\n")
        #expect(split.joined().filter { $0 == "x" }.count == 50)
    }

    /// The lesson runner's form (`SOCKETTUTOR_LINES=paired`): every line holds one separator; the
    /// parts before it are exactly what `--brief` prints and the parts after it what the plain
    /// form prints, on every capture. The class is shown, and the checks read, the same packets.
    @Test func pairedLinesAreTheBriefAndTheWholeForms() throws {
        let separator = Character(Unicode.Scalar(LinesForm.separator))
        let paired = [LinesForm.variable: LinesForm.paired.rawValue]
        for capture in Self.captures {
            let both = try runCommand("handshake-watch", ["-r", capture], environment: paired, timeout: 120)
            let brief = try runCommand("handshake-watch", ["-r", capture, "--brief"], timeout: 120)
            let whole = try runCommand("handshake-watch", ["-r", capture], timeout: 120)
            #expect(both.status == 0 && brief.status == 0 && whole.status == 0, "\(capture)")
            let halves = both.stdout.map { $0.split(separator: separator, omittingEmptySubsequences: false).map(String.init) }
            #expect(!halves.isEmpty && halves.allSatisfy { $0.count == 2 }, "\(capture): a line without its one separator")
            let shown = halves.compactMap { $0.first }.filter { !$0.isEmpty }
            let kept = halves.compactMap { $0.count == 2 ? $0[1] : nil }.filter { !$0.isEmpty }
            #expect(shown == brief.stdout, "\(capture): the shown halves are not --brief's lines")
            #expect(kept == whole.stdout, "\(capture): the kept halves are not the whole lines")
            #expect(both.stderr == whole.stderr)
        }
        // Only the plain text form is paired: --brief, the ladder and JSON come as they are. Under
        // the runner (`whole` too) lines are never wrapped, whatever $COLUMNS says: it fits them itself.
        let capture = packageRoot.appendingPathComponent("captures/echo-ipv4.pcap").path
        for mode in [["--brief"], ["--format", "ladder"], ["--format", "json"]] {
            let asked = try runCommand("handshake-watch", ["-r", capture] + mode, environment: paired)
            let plain = try runCommand("handshake-watch", ["-r", capture] + mode)
            #expect(asked.stdout == plain.stdout && !plain.stdout.isEmpty, "\(mode)")
        }
        let narrow = try runCommand("handshake-watch", ["-r", capture],
                                    environment: [LinesForm.variable: LinesForm.whole.rawValue, "COLUMNS": "60"])
        let whole = try runCommand("handshake-watch", ["-r", capture])
        #expect(narrow.stdout == whole.stdout && whole.stdout.contains { $0.count > 60 })
    }

    /// Into a pipe, a person's watcher fits `$COLUMNS` when it is set (as `ls` reads it), else 80;
    /// `--width` goes first. `--width 0` keeps lines whole, and so does SOCKETTUTOR_LINES, which
    /// a program that reads them sets (the lesson runner; these tests, through ToolProcess).
    /// JSON is never wrapped.
    @Test func columnsVariableOrEightyIsTheDefaultIntoAPipe() throws {
        let capture = packageRoot.appendingPathComponent("captures/lost-segment.pcap").path
        let person = [LinesForm.variable: ""]
        let whole = try runCommand("handshake-watch", ["-r", capture], timeout: 60)
        #expect(whole.stdout.contains { LineWrapper.columns(Array($0.utf8)) > 100 }, "a line over 100 columns to wrap: \(whole.stdout)")
        let byDefault = try runCommand("handshake-watch", ["-r", capture], environment: person, timeout: 60)
        let eighty = try runCommand("handshake-watch", ["-r", capture, "--width", "80"], timeout: 60)
        #expect(byDefault.status == 0 && byDefault.stdout == eighty.stdout, "80 columns without a terminal or $COLUMNS")
        #expect(byDefault.stdout.allSatisfy { LineWrapper.columns(Array($0.utf8)) <= 80 })
        let zero = try runCommand("handshake-watch", ["-r", capture, "--width", "0"], environment: person, timeout: 60)
        #expect(zero.status == 0 && zero.stdout == whole.stdout, "--width 0: whole lines")
        let asked = try runCommand("handshake-watch", ["-r", capture], environment: person.merging(["COLUMNS": "60"]) { $1 }, timeout: 60)
        let explicit = try runCommand("handshake-watch", ["-r", capture, "--width", "100"], environment: person.merging(["COLUMNS": "60"]) { $1 }, timeout: 60)
        let fitted = try runCommand("handshake-watch", ["-r", capture, "--width", "60"], timeout: 60)
        #expect(asked.status == 0 && asked.stdout == fitted.stdout, "COLUMNS=60 fits as --width 60 does")
        #expect(explicit.stdout.allSatisfy { LineWrapper.columns(Array($0.utf8)) <= 100 }
                && explicit.stdout.contains { LineWrapper.columns(Array($0.utf8)) > 60 }, "--width 100 wins over COLUMNS=60")
        // Out of --width's range (40 to 1000), or not a number: ignored, 80.
        for value in ["30", "wide"] {
            let ignored = try runCommand("handshake-watch", ["-r", capture], environment: person.merging(["COLUMNS": value]) { $1 }, timeout: 60)
            #expect(ignored.status == 0 && ignored.stdout == eighty.stdout, "COLUMNS=\(value)")
        }
        let json = try runCommand("handshake-watch", ["-r", capture, "--format", "json"], environment: person.merging(["COLUMNS": "60"]) { $1 }, timeout: 60)
        #expect(json.stdout.contains { $0.count > 60 } && json.stdout.allSatisfy { $0.hasPrefix("{") })
    }

    @Test func widthIsCheckedAndGoesWithTextFormats() throws {
        let capture = Self.captures.first ?? ""
        let bad = try runCommand("handshake-watch", ["-r", capture, "--width", "10"], timeout: 60)
        #expect(bad.status == 1 && bad.stderr.joined().contains("--width must be 0 (whole lines) or between 40 and 1000"))
        let json = try runCommand("handshake-watch", ["-r", capture, "--width", "80", "--format", "json"], timeout: 60)
        #expect(json.status == 1 && json.stderr.joined().contains("--width fits text lines"))
    }
}
