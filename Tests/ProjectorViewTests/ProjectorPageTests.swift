import Foundation
import LiveView
import Testing
import TestSupport

/// The embedded page: the bytes in the binary are the file in the source tree, and the page asks
/// nothing of another origin (a classroom may be offline).
@Suite("projector page, embedded")
struct ProjectorPageTests {
    static var source: String {
        get throws {
            try String(contentsOf: packageRoot.appendingPathComponent("Sources/LiveView/Resources/index.html"), encoding: .utf8)
        }
    }

    @Test("the embedded bytes are Resources/index.html, served as UTF-8 HTML")
    func embedded() throws {
        #expect(String(decoding: LiveViewPage.html, as: UTF8.self) == (try Self.source))
        #expect(LiveViewPage.contentType == "text/html; charset=utf-8")
    }

    @Test("self-contained: no external script, style, font, image or fetch; relative endpoints only")
    func selfContained() throws {
        let page = try Self.source
        for forbidden in ["<script src", "<link rel=\"stylesheet\"", "@import", "url(", "https://", "<img", "<iframe"] {
            #expect(!page.contains(forbidden), "the page contains \(forbidden)")
        }
        // The one absolute URL is the SVG namespace, an identifier that is never fetched.
        let absolute = page.components(separatedBy: "http://").dropFirst().map { $0.prefix(while: { $0 != "\"" && $0 != "`" && $0 != " " }) }
        #expect(absolute.allSatisfy { $0 == "www.w3.org/2000/svg" }, "\(absolute)")
        for endpoint in ["\"events\"", "\"events.jsonl\"", "ladder.svg"] {
            #expect(page.contains(endpoint), "the page does not use \(endpoint)")
        }
    }
}
