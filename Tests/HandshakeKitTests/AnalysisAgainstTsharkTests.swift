import Foundation
import Testing
import TestSupport

/// Our `analysis` against tshark's `tcp.analysis.*` fields, frame by frame: recall and precision
/// per finding over every capture in captures/ and, when TCPDUMP_SRC names a tcpdump source
/// checkout, over the captures of its tests/ that tshark flags and we can read.
///
/// Documented deviations (docs/EVENTS.md, "TCP analysis") are left out of the count by name:
/// - Linux's zero-window probe (a bare segment at SND.UNA − 1 while the peer advertises 0): we
///   say `zero-window-probe`, tshark `keep-alive`. The frame counts for neither.
/// - Its answer (the same ACK, window 0): we add `zero-window-probe-ack`; tshark has only
///   `zero-window`, which still counts.
@Suite("TCP analysis against tshark")
struct AnalysisAgainstTsharkTests {
    /// tshark's field for each of our names.
    static let fields: [(tshark: String, ours: String)] = [
        ("tcp.analysis.retransmission", "retransmission"), ("tcp.analysis.fast_retransmission", "fast-retransmission"),
        ("tcp.analysis.spurious_retransmission", "spurious-retransmission"), ("tcp.analysis.out_of_order", "out-of-order"),
        ("tcp.analysis.duplicate_ack", "duplicate-ack"), ("tcp.analysis.lost_segment", "previous-segment-not-captured"),
        ("tcp.analysis.ack_lost_segment", "ack-of-unseen-segment"), ("tcp.analysis.zero_window", "zero-window"),
        ("tcp.analysis.zero_window_probe", "zero-window-probe"), ("tcp.analysis.zero_window_probe_ack", "zero-window-probe-ack"),
        ("tcp.analysis.window_full", "window-full"), ("tcp.analysis.window_update", "window-update"),
        ("tcp.analysis.keep_alive", "keep-alive"), ("tcp.analysis.keep_alive_ack", "keep-alive-ack"),
    ]

    struct Counts { var truePositive = 0, falsePositive = 0, falseNegative = 0 }

    static var captures: [String] {
        var paths = BriefOutputTests.captures
        if let source = ProcessInfo.processInfo.environment["TCPDUMP_SRC"] {
            let tests = URL(fileURLWithPath: source).appendingPathComponent("tests")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: tests.path)) ?? []
            paths += names.filter { $0.contains(".pcap") }.sorted().map { tests.appendingPathComponent($0).path }
        }
        return paths
    }

    /// tshark's findings per frame (only frames with at least one).
    static func theirs(_ path: String) throws -> [Int: Set<String>] {
        let run = try runCommand("/usr/bin/tshark", ["-n", "-r", path, "-Y", "tcp.analysis.flags", "-T", "fields",
                                                     "-E", "separator=/t", "-e", "frame.number"] + fields.flatMap { ["-e", $0.tshark] },
                                 timeout: 120)
        var result: [Int: Set<String>] = [:]
        for line in run.stdout {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard columns.count == fields.count + 1, let frame = Int(columns[0]) else { continue }
            var names = Set(zip(fields, columns.dropFirst()).filter { !$0.1.isEmpty }.map(\.0.ours))
            // tshark sets tcp.analysis.retransmission on fast and spurious retransmissions too;
            // we name each once.
            if !names.isDisjoint(with: ["fast-retransmission", "spurious-retransmission"]) { names.remove("retransmission") }
            result[frame] = names
        }
        return result
    }

    /// Ours per frame, from `--format json`; nil when handshake-watch cannot read the file
    /// (a link type it does not decode).
    static func ours(_ path: String) throws -> [Int: Set<String>]? {
        let run = try runCommand("handshake-watch", ["--format", "json", "--no-events", "-r", path], timeout: 120)
        guard run.status == 0 else { return nil }
        var result: [Int: Set<String>] = [:]
        for line in run.stdout where line.hasPrefix("{\"type\":\"packet\"") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let frame = object["frame"] as? Int, let names = object["analysis"] as? [String], !names.isEmpty else { continue }
            result[frame] = Set(names)
        }
        return result
    }

    @Test("recall and precision >= 0.9 for every finding with 5 or more cases; deviations excluded by name")
    func compare() throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark"), "tshark is missing: make setup installs it")
        var counts: [String: Counts] = [:]
        var excluded: [String: Int] = [:]
        var read = 0
        for path in Self.captures {
            let theirs = try Self.theirs(path)
            if theirs.isEmpty && !path.contains("/captures/") { continue }   // the corpus: only what tshark flags
            guard let ours = try Self.ours(path) else { continue }
            read += 1
            for frame in Set(theirs.keys).union(ours.keys) {
                var mine = ours[frame] ?? [], their = theirs[frame] ?? []
                if mine.contains("zero-window-probe") && their.contains("keep-alive") {
                    mine.remove("zero-window-probe"); their.remove("keep-alive")
                    excluded["zero-window-probe (Linux's probe, tshark: keep-alive)", default: 0] += 1
                }
                if mine.contains("zero-window-probe-ack") && !their.contains("zero-window-probe-ack") && their.contains("zero-window") {
                    mine.remove("zero-window-probe-ack")
                    excluded["zero-window-probe-ack (the answer to Linux's probe)", default: 0] += 1
                }
                for name in mine.union(their) {
                    switch (mine.contains(name), their.contains(name)) {
                    case (true, true): counts[name, default: Counts()].truePositive += 1
                    case (true, false): counts[name, default: Counts()].falsePositive += 1
                    default: counts[name, default: Counts()].falseNegative += 1
                    }
                    if mine.contains(name) != their.contains(name) {
                        print("analysis: \(path) frame \(frame): ours \(mine.sorted()), tshark \(their.sorted())")
                    }
                }
            }
        }
        print("analysis against tshark over \(read) captures")
        print("finding                          tshark   ours   both  recall  precision")
        for (_, name) in Self.fields.map({ ($0.tshark, $0.ours) }) {
            let count = counts[name] ?? Counts()
            let theirs = count.truePositive + count.falseNegative, ours = count.truePositive + count.falsePositive
            let recall = theirs == 0 ? 1 : Double(count.truePositive) / Double(theirs)
            let precision = ours == 0 ? 1 : Double(count.truePositive) / Double(ours)
            print(name.padding(toLength: 32, withPad: " ", startingAt: 0)
                  + String(format: " %6d %6d %6d %7.3f %10.3f", theirs, ours, count.truePositive, recall, precision))
            if theirs >= 5 || ours >= 5 {
                #expect(recall >= 0.9, "\(name): recall \(recall) (\(count.truePositive) of \(theirs))")
                #expect(precision >= 0.9, "\(name): precision \(precision) (\(count.truePositive) of \(ours))")
            }
        }
        for (reason, frames) in excluded.sorted(by: { $0.key < $1.key }) { print("excluded: \(frames) frames, \(reason)") }
        // The captures made for the analysis show what they were made for.
        for name in ["retransmission", "fast-retransmission", "duplicate-ack", "out-of-order", "window-full",
                     "window-update", "zero-window", "keep-alive", "keep-alive-ack"] {
            #expect((counts[name]?.truePositive ?? 0) > 0, "no \(name) in the captures")
        }
        #expect(excluded.values.reduce(0, +) > 0, "slow-reader.pcap and deadlock.pcap hold Linux's zero-window probes")
    }
}
