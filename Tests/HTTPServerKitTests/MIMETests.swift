import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("MIME") struct MIMETests {
    let table = MIMETypes(loadingFile: nil)

    @Test func builtInAndHandlerMap() {
        #expect(table.guess(Array("/x/index.html".utf8)) == "text/html")
        #expect(table.guess(Array("/x/A.PNG".utf8)) == "image/png")
        #expect(table.guess(Array("/x/a.tar.gz".utf8)) == "application/gzip")
        #expect(table.guess(Array("/x/app.js.br".utf8)) == "text/javascript")
        #expect(table.guess(Array("/x/.bashrc".utf8)) == "application/octet-stream")
        #expect(table.guess(Array("/x/noext".utf8)) == "application/octet-stream")
    }

    /// mimetypes' suffix_map comes before any table (`.tgz` is `.tar.gz`, so a tar file even
    /// though /etc/mime.types says x-gtar-compressed), and its encodings are case-sensitive.
    @Test func suffixMapAndEncodingsLikePython() throws {
        let folder = try TempFolder("mime")
        defer { folder.remove() }
        try folder.write("mime.types", "application/x-gtar-compressed tgz taz\n")
        let loaded = MIMETypes(loadingFile: folder.path + "/mime.types")
        #expect(loaded.guess(Array("a.tgz".utf8)) == "application/x-tar")
        #expect(loaded.guess(Array("a.TGZ".utf8)) == "application/x-tar")
        #expect(loaded.guess(Array("a.svgz".utf8)) == "image/svg+xml")
        #expect(loaded.guess(Array("a.txz".utf8)) == "application/x-tar")
        #expect(loaded.guess(Array("a.js.BR".utf8)) == "application/octet-stream")
        #expect(loaded.guess(Array("a.js.br".utf8)) == "text/javascript")
        #expect(loaded.guess([0x61, 0x2E, 0xE9, 0x2E, 0x67, 0x7A]) == "application/gzip")   // a.<0xE9>.gz
        #expect(loaded.guess([0x61, 0x2E, 0xE9, 0x2E, 0x62, 0x72]) == "application/octet-stream")   // a.<0xE9>.br
    }

    @Test func systemFileOverrides() throws {
        let folder = try TempFolder("mime")
        defer { folder.remove() }
        try folder.write("mime.types", "# comment\ntext/x-test\ttst  tst2\napplication/x-other js\n")
        let loaded = MIMETypes(loadingFile: folder.path + "/mime.types")
        #expect(loaded.guess(Array("a.tst2".utf8)) == "text/x-test")
        #expect(loaded.guess(Array("a.js".utf8)) == "application/x-other")
    }
}
