import Foundation
import Testing
import TestSupport

/// docs/EVENTS.md is the reference of the JSON events: every `type` that handshake-watch emits
/// over the recordings in captures/ (packets, connections, stats, and the sidecars' system calls,
/// output and kernel events) must have its row there.
@Suite struct EventsDocumentTests {
    /// The types the table of docs/EVENTS.md names: its first column, `type` in backquotes.
    static func documentedTypes() throws -> Set<String> {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("docs/EVENTS.md"), encoding: .utf8)
        var types: Set<String> = []
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let firstCell = line.dropFirst(2).prefix { $0 != "|" }
            for piece in firstCell.split(separator: "`", omittingEmptySubsequences: false).enumerated() where piece.offset % 2 == 1 {
                types.insert(String(piece.element))
            }
        }
        return types
    }

    @Test func everyTypeEmittedOverTheCapturesIsDocumented() throws {
        let documented = try Self.documentedTypes()
        #expect(documented.contains("packet") && documented.contains("syscall"), "no table found in docs/EVENTS.md")
        let captures = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("captures").path)
            .filter { $0.hasSuffix(".pcap") }.sorted()
        #expect(!captures.isEmpty)
        var emitted: [String: String] = [:]   // type → the first capture that emitted it
        for capture in captures {
            let path = packageRoot.appendingPathComponent("captures/" + capture).path
            let result = try runCommand("handshake-watch", ["-r", path, "--format", "json"], timeout: 120)
            #expect(result.status == 0, "\(capture): \(result.stderr)")
            for line in result.stdout {
                guard let data = line.data(using: .utf8),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      let type = object["type"] as? String else { continue }
                if emitted[type] == nil { emitted[type] = capture }
            }
        }
        #expect(emitted.keys.contains("packet") && emitted.keys.contains("syscall"), "\(emitted)")
        for (type, capture) in emitted.sorted(by: { $0.key < $1.key }) {
            #expect(documented.contains(type), "`\(type)` (emitted over captures/\(capture)) has no row in docs/EVENTS.md")
        }
    }
}
