import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("Listing") struct ListingTests {
    func entry(_ name: [UInt8], dir: Bool = false, link: Bool = false) -> FileSystem.Entry {
        FileSystem.Entry(name: name, isDirectory: dir, isSymbolicLink: link)
    }

    @Test func escapesAndQuotes() {
        let page = String(decoding: DirectoryListing.html(entries: [entry(Array("<b>&\"x\".txt".utf8))],
                                                          requestPath: Array("/<d>/".utf8)), as: UTF8.self)
        #expect(page.contains("<title>Directory listing for /&lt;d&gt;/</title>"))
        #expect(page.contains("<li><a href=\"%3Cb%3E%26%22x%22.txt\">&lt;b&gt;&amp;\"x\".txt</a></li>"))
    }

    @Test func foldersAndLinks() {
        let page = String(decoding: DirectoryListing.html(entries: [entry(Array("d".utf8), dir: true),
                                                                    entry(Array("l".utf8), dir: true, link: true),
                                                                    entry(Array("f".utf8), link: true)],
                                                          requestPath: Array("/".utf8)), as: UTF8.self)
        #expect(page.contains("<li><a href=\"d/\">d/</a></li>"))
        #expect(page.contains("<li><a href=\"l/\">l@</a></li>"))
        #expect(page.contains("<li><a href=\"f\">f@</a></li>"))
    }

    @Test func rawBytesNames() {
        let page = DirectoryListing.html(entries: [entry([0x61, 0xFF])], requestPath: Array("/".utf8))
        #expect(String(decoding: page, as: UTF8.self).contains("href=\"a%FF\""))
        let marker = Array(">".utf8) + [0x61, 0xFF] + Array("</a>".utf8)
        #expect(page.indices.contains { page[$0...].starts(with: marker) })
    }

    @Test func sortsCaseInsensitively() {
        let names = ["b", "A", "a", "C", "é", "E"].map { Array($0.utf8) }
        let sorted = DirectoryListing.sortedForListing(names.map { entry($0) }).map { String(decoding: $0.name, as: UTF8.self) }
        #expect(sorted == ["A", "a", "b", "C", "E", "é"])
    }

    @Test func sortsASCIINamesLikeTheGeneralPath() {
        let names = ["b", "A", "a", "C", "_x", "Ab", "ab", "a.txt"].map { Array($0.utf8) }
        let sorted = DirectoryListing.sortedForListing(names.map { entry($0) }).map { String(decoding: $0.name, as: UTF8.self) }
        #expect(sorted == ["_x", "A", "a", "a.txt", "Ab", "ab", "b", "C"])   // Python: sorted(names, key=str.lower)
    }

    @Test func exactPythonPage() {
        let page = String(decoding: DirectoryListing.html(entries: [entry(Array("a.txt".utf8))], requestPath: Array("/".utf8)), as: UTF8.self)
        #expect(page == """
            <!DOCTYPE HTML>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>Directory listing for /</title>
            </head>
            <body>
            <h1>Directory listing for /</h1>
            <hr>
            <ul>
            <li><a href="a.txt">a.txt</a></li>
            </ul>
            <hr>
            </body>
            </html>

            """)
    }
}
