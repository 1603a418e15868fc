import Glibc
import SocketCore
import Testing
@testable import HTTPServerKit

@Suite("translatePath") struct TranslatePathTests {
    func translate(_ path: String) -> String {
        String(decoding: FileRequestHandler.translate(path: Array(path.utf8), root: Array("/srv".utf8)), as: UTF8.self)
    }

    @Test func dropsQueryFragmentAndDecodesOnce() {
        #expect(translate("/a/b.txt?x=1#y") == "/srv/a/b.txt")
        #expect(translate("/a%20b") == "/srv/a b")
        #expect(translate("/%252e%252e/x") == "/srv/%2e%2e/x")   // decoded once only
    }

    @Test func traversalStaysInside() {
        #expect(translate("/../../etc/passwd") == "/srv/etc/passwd")
        #expect(translate("/%2e%2e/%2e%2e/etc/passwd") == "/srv/etc/passwd")
        #expect(translate("/a/../../b") == "/srv/b")
        #expect(translate("//a//./b/") == "/srv/a/b/")
        #expect(translate("/") == "/srv/")
        #expect(translate("") == "/srv")
    }

    @Test func keepsRawBytes() {
        let result = FileRequestHandler.translate(path: Array("/caf%E9".utf8), root: Array("/r".utf8))
        #expect(result == Array("/r/caf".utf8) + [0xE9])
    }

    @Test func forbiddenBytes() {
        #expect(PercentEncoding.hasForbiddenBytes(Array("/a%00b".utf8)))
        #expect(PercentEncoding.hasForbiddenBytes(Array("/a%2fb".utf8)))
        #expect(PercentEncoding.hasForbiddenBytes(Array("/a%2Fb".utf8)))
        #expect(!PercentEncoding.hasForbiddenBytes(Array("/a%20b/c".utf8)))
    }

    /// Python's link form of a non-UTF-8 byte (U+DC80...U+DCFF in UTF-8) back to the byte.
    @Test func surrogateEscapesUndone() {
        #expect(FileRequestHandler.undoingSurrogateEscapes(Array("/caf".utf8) + [0xED, 0xB3, 0xA9] + Array(".txt".utf8))
                == Array("/caf".utf8) + [0xE9] + Array(".txt".utf8))
        #expect(FileRequestHandler.undoingSurrogateEscapes([0xED, 0xB2, 0x80, 0xED, 0xB3, 0xBF]) == [0x80, 0xFF])
        #expect(FileRequestHandler.undoingSurrogateEscapes(Array("/plain/caf\u{e9}".utf8)) == nil)   // valid UTF-8: nothing to undo
        #expect(FileRequestHandler.undoingSurrogateEscapes([0xED, 0xB3]) == nil)                     // cut short
        #expect(FileRequestHandler.undoingSurrogateEscapes([0xED, 0x9F, 0xBF]) == nil)               // U+D7FF, not a surrogate
    }

    @Test func redirectLocation() {
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("/d?x=1".utf8)), as: UTF8.self) == "/d/?x=1")
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("/d?".utf8)), as: UTF8.self) == "/d/")
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("/d#f".utf8)), as: UTF8.self) == "/d/#f")
        #expect(String(decoding: FileRequestHandler.slashedLocation(Array("d?hi=1".utf8)), as: UTF8.self) == "d/?hi=1")
    }

    /// What a browser would turn into another host stays a path on this one.
    @Test func redirectLocationIsNeverAnotherHost() {
        func location(_ target: [UInt8]) -> String {
            String(decoding: FileRequestHandler.slashedLocation(target), as: UTF8.self)
        }
        #expect(location(Array("/\\evil.example/../d".utf8)) == "/%5Cevil.example/../d/")
        #expect(location(Array("\\\\evil.example/../../d".utf8)) == "%5C%5Cevil.example/../../d/")
        #expect(location([0x01] + Array("//evil.example/../../d".utf8)) == "%01//evil.example/../../d/")
        #expect(location(Array("https:evil.example/../d".utf8)) == "https%3Aevil.example/../d/")
        #expect(location(Array("https:/\\evil.example/../d".utf8)) == "https%3A/%5Cevil.example/../d/")
        #expect(location(Array("https://pypi.org/d".utf8)) == "https://pypi.org/d/")   // absolute form, as CPython's test wants
        #expect(location(Array("/a:b/d?q=\\".utf8)) == "/a:b/d/?q=\\")   // a colon after the first slash, the query: as sent
    }
}
