import Foundation
import Testing
import TestSupport
@testable import LessonKit

/// Issue 19's projector form: a watcher's bulk transfer is one line per second of it, the lines
/// it stands for a keystroke away. Fed with what handshake-watch really prints for a capture,
/// so a change of its wording that the runner no longer recognises fails here.
@Suite struct BulkTransferTests {
    static let lossy = packageRoot.appendingPathComponent("captures/lossy.pcap").path

    /// The watcher's lines for `capture` (stdout; with `stderr`, its stderr lines after them).
    static func watcherLines(_ capture: String, _ extra: [String], stderr: Bool = false) throws -> [String] {
        let result = try runCommand("handshake-watch", ["-r", capture, "--no-events"] + extra, timeout: 120)
        #expect(result.status == 0)
        return result.stdout + (stderr ? result.stderr : [])
    }

    @Test(arguments: [["--brief"], []])
    func plainSegmentsAreSummedAndEverythingElseIsShown(form: [String]) throws {
        let lines = try Self.watcherLines(Self.lossy, form)
        let plain = lines.filter { BulkTransferRun.segment($0) != nil }
        #expect(plain.count > 100, "handshake-watch's data and ACK lines are no longer recognised: \(lines.prefix(12))")
        // What the runner shows: every line that is not plain, in order, with summaries between.
        var run = BulkTransferRun()
        var shown: [String] = []
        var summed = 0
        func end() {
            if run.shown.count == 1 && run.segments.count > 1 { summed += run.segments.count }
            shown += run.shown
            run = BulkTransferRun()
        }
        for line in lines {
            if let segment = BulkTransferRun.segment(line) {
                if !run.accepts(segment) { end() }
                run.append(segment)
            } else {
                end()
                shown.append(line)
            }
        }
        end()
        #expect(shown.count < lines.count / 2, "\(shown.count) of \(lines.count) lines still shown")
        #expect(shown.filter { $0.contains(" … ") }.count >= 1)
        // Nothing TCP analysis names is held: retransmissions, duplicate ACKs and the FIN are shown.
        let news = lines.filter { BulkTransferRun.segment($0) == nil }
        #expect(news.allSatisfy { shown.contains($0) })
        let named = ["retransmi", "resent", "dup"]   // the full form's words, then --brief's
        #expect(news.contains { line in named.contains { line.contains($0) } }, "the capture's retransmissions: \(news.prefix(20))")
        #expect(!plain.contains { line in (named + ["FIN"]).contains { line.contains($0) } })
        #expect(summed + (shown.count - shown.filter { $0.contains(" … ") }.count) == lines.count)
    }

    @Test func theSummaryCountsSegmentsAcksBytesAndClosedWindows() throws {
        var run = BulkTransferRun()
        for index in 0..<12 {
            let time = String(format: "10:00:00.%03d", index * 10)
            let data = "\(time) #3 c→s [ACK] seq \(1 + index * 1000) ack 1 len 1000 win 512  data"
            let ack = "\(time) #3 s→c [ACK] seq 1 ack \(1001 + index * 1000) len 0 win \(index < 4 ? 0 : 700)  ack"
            for line in [data, ack] {
                let segment = try #require(BulkTransferRun.segment(line), "\(line)")
                #expect(run.accepts(segment))
                run.append(segment)
            }
        }
        #expect(run.shown == ["10:00:00.000 #3 … 12 data segments, 12 ACKs, 12.0 kB in 0.1 s, 4 advertising win 0 …"])
        // Another connection, or a second later, starts a new run.
        let other = try #require(BulkTransferRun.segment("10:00:00.200 #4 c→s [ACK] seq 1 ack 1 len 10 win 5  data"))
        let later = try #require(BulkTransferRun.segment("10:00:01.000 #3 c→s [ACK] seq 1 ack 1 len 10 win 5  data"))
        #expect(!run.accepts(other) && !run.accepts(later))
        // A short run is shown whole.
        var short = BulkTransferRun()
        short.append(other)
        #expect(short.shown == [other.text])
        // What ends a run.
        for line in ["10:00:00.300 #3 c→s [FIN,ACK] seq 1 ack 1 len 0 win 5  close 1/3",
                     "10:00:00.300 #3 c→s [ACK] seq 4 ack 1 len 0 win 5  probe",
                     "10:00:00.300 #3 c→s [ACK] seq 4 ack 1 len 100 win 5  retransmit",
                     "[kernel] 127.0.0.1:5 ESTABLISHED → FIN_WAIT1"] {
            #expect(BulkTransferRun.segment(line) == nil, "\(line)")
        }
    }

    /// The runner: `lesson run` sums up, `--verbose` shows every line, `v` at the prompt shows
    /// the lines the last step's summary stood for.
    @Test func theRunnerSumsUpAndShowsEverythingOnRequest() throws {
        let lesson = try TemporaryLesson("""
            # Bulk

            ## Step 1: a transfer

            ```run label=watch
            handshake-watch --brief --no-events -r \(Self.lossy)
            ```

            ## Step 2: after

            Done.
            """)
        defer { lesson.remove() }
        let all = try Self.watcherLines(Self.lossy, ["--brief"], stderr: true)   // the runner shows both streams
        let summed = try runCommand("lesson", ["run", lesson.file, "--auto", "--width", "1000"], timeout: 120)
        #expect(summed.status == 0, "\(summed.stderr)")
        let watch = summed.stdout.filter { $0.hasPrefix("[watch] ") }
        #expect(watch.contains { $0.contains(" … ") && $0.contains("data segments") })
        #expect(watch.count < all.count / 2)
        let verbose = try runCommand("lesson", ["run", lesson.file, "--auto", "--verbose", "--width", "1000"], timeout: 120)
        let everyLine = Set(all.map { "[watch] " + $0 })
        #expect(everyLine.isSubset(of: Set(verbose.stdout)))
        #expect(!verbose.stdout.contains { $0.contains(" … ") })

        // Enter, then v (the lines), then Enter at the prompt asked again.
        let asked = try runCommand("lesson", ["run", lesson.file, "--width", "1000"], stdin: "\nv\n\n", timeout: 120)
        #expect(asked.status == 0, "\(asked.stderr)")
        let out = asked.stdout
        let note = try #require(out.firstIndex { $0.hasSuffix("lines of the last step are summed up: v and Enter shows them)") }, "\(out.suffix(8))")
        let listing = try #require(out.firstIndex { $0.hasSuffix("lines the summaries of the last step stand for)") })
        #expect(out.filter { $0 == "[Enter: run step 2, q: quit]" }.count == 2)   // asked again after the listing
        #expect(note < listing)
        // Every line of the watcher is on the screen once: shown in the step, or listed after v.
        let onScreen = out.filter { $0.hasPrefix("[watch] ") && !$0.contains(" … ") }.count
        #expect(onScreen == all.count, "\(onScreen) of \(all.count)")
    }

    /// Without `--verbose` the runner shows a watcher's lines as `--brief` prints them and checks
    /// the whole ones (`SOCKETTUTOR_LINES=paired`): the expectation below names the whole
    /// sentence, the screen shows `open 1/3`, and `v` lists the whole lines a summary stood for.
    @Test func theRunnerShowsBriefLinesAndChecksWholeOnes() throws {
        let lesson = try TemporaryLesson("""
            # Brief

            ## Step 1: a transfer

            ```run label=watch
            handshake-watch --no-events -r \(Self.lossy)
            ```

            ```expect
            [SYN] seq 0 len 0{any}handshake 1/3: the client's connect() sends SYN and blocks
            ```

            ## Step 2: after

            Done.
            """)
        defer { lesson.remove() }
        let brief = try Self.watcherLines(Self.lossy, ["--brief"], stderr: true)   // the runner shows both streams
        let whole = try Self.watcherLines(Self.lossy, [])
        let errors = try Self.watcherLines(Self.lossy, [], stderr: true).count - whole.count
        let run = try runCommand("lesson", ["run", lesson.file, "--width", "1000"], stdin: "\nv\n\n", timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let out = run.stdout
        let note = try #require(out.firstIndex { $0.contains("handshake-watch's lines are shown as --brief prints them") }, "\(out.prefix(40))")
        let syn = try #require(out.firstIndex { $0.hasPrefix("[watch] ") && $0.hasSuffix(" #1 c→s [SYN] seq 0 len 0 win 64240  open 1/3") })
        #expect(note < syn)
        #expect(out.contains { $0.hasPrefix("✓ checked: [watch] [SYN] seq 0 len 0{any}handshake 1/3") })
        // Shown in the step: brief lines (and the summaries); listed after v: whole ones.
        let listing = try #require(out.firstIndex { $0.hasSuffix("lines the summaries of the last step stand for)") })
        let shown = out[..<listing].filter { $0.hasPrefix("[watch] ") && !$0.contains(" … ") }.map { String($0.dropFirst(8)) }
        let listed = out[listing...].filter { $0.hasPrefix("[watch] ") }.map { String($0.dropFirst(8)) }
        #expect(!shown.isEmpty && Set(shown).isSubset(of: Set(brief)), "\(Set(shown).subtracting(Set(brief)).prefix(3))")
        #expect(!listed.isEmpty && Set(listed).isSubset(of: Set(whole)), "\(Set(listed).subtracting(Set(whole)).prefix(3))")
        #expect(shown.count + listed.count == whole.count + errors + 1, "every line once; the brief form adds the addresses' line")
        // --verbose: the whole lines, and no note.
        let verbose = try runCommand("lesson", ["run", lesson.file, "--auto", "--verbose", "--width", "1000"], timeout: 120)
        #expect(verbose.status == 0)
        #expect(Set(whole.map { "[watch] " + $0 }).isSubset(of: Set(verbose.stdout)))
        #expect(!verbose.stdout.contains { $0.contains("shown as --brief prints them") })
    }
}
