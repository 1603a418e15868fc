import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("Escaping") struct EscapingTests {
    @Test func html() {
        #expect(HTMLEscaping.escape("<a href='x'>&</a>") == "&lt;a href='x'&gt;&amp;&lt;/a&gt;")
    }

    @Test func percent() {
        var out: [UInt8] = []
        PercentEncoding.encode(Array("a b/é~".utf8), into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "a%20b/%C3%A9~")
        #expect(PercentEncoding.decode(Array("%41%zz%4".utf8)) == Array("A%zz%4".utf8))
    }

    @Test func errorPageEscapes() {
        let page = RequestHandler.errorPage(code: 400, message: "Bad <x>", explain: "e&")
        #expect(page.contains("<p>Message: Bad &lt;x&gt;.</p>"))
        #expect(page.contains("<p>Error code explanation: 400 - e&amp;.</p>"))
    }
}
