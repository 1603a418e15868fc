import Foundation
import Testing
import TestSupport

/// A sidecar (`X.events.jsonl`) is untrusted input: a window-title change, a screen clear and an
/// OSC 52 clipboard write in its text must reach the terminal as `\xNN`, in every text format.
@Suite struct UntrustedTextTests {
    @Test(arguments: [[String](), ["--brief"], ["--format", "ladder"]])
    func noControlCharacterFromASidecarReachesTheTerminal(mode: [String]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = packageRoot.appendingPathComponent("captures/echo-ipv4")
        let capture = folder.appendingPathComponent("h.pcap")
        try FileManager.default.copyItem(at: source.appendingPathExtension("pcap"), to: capture)
        let hostile = "hi\u{1B}]0;TITLE\u{07}\u{1B}[2J\u{1B}]52;c;aGk=\u{07} \u{9B} \u{7F}"
        var lines: [String] = []
        var replaced = 0
        for line in try String(contentsOf: packageRoot.appendingPathComponent("captures/echo-ipv4.events.jsonl"), encoding: .utf8)
            .split(separator: "\n") {
            var object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if object["type"] as? String == "output" || object["type"] as? String == "syscall" {
                object["text"] = hostile
                object["label"] = "cli\u{1B}[31ment"
                replaced += 1
            }
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        }
        #expect(replaced > 0)
        try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("h.events.jsonl"), atomically: true, encoding: .utf8)
        let result = try runCommand("handshake-watch", ["-r", capture.path, "--color", "never"] + mode, timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let all = result.stdout.joined(separator: "\n")
        #expect(!all.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B || $0.value == 0x7F },
                "a control character reached stdout")
        // Shown, as `\xNN`: the ladder draws the calls and output lines too.
        #expect(all.contains("hi\\x1b]0;TITLE\\x07\\x1b[2J\\x1b]52;c;aGk=\\x07 \\x9b \\x7f"), "\(all)")
        #expect(all.contains("[cli\\x1b[31ment]"))
    }
}
