import Testing
@testable import Timeline

@Suite("JSON reader")
struct JSONReaderTests {
    @Test func readsTheSchemaShapes() throws {
        let value = try JSONReader.parse(#"{"a":"x\"y\u00e9\ud83d\ude00","n":-1.5e3,"t":true,"z":null,"l":["SYN","ACK"],"o":{}}"#)
        guard case .object(let fields) = value else { Issue.record("not an object"); return }
        #expect(fields.map(\.0) == ["a", "n", "t", "z", "l", "o"])
        #expect(fields[0].1 == .string("x\"yé😀"))
        #expect(fields[1].1 == .number("-1.5e3"))
        #expect(fields[4].1 == .array([.string("SYN"), .string("ACK")]))
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "1.", "\"\u{01}\"", "\"\\x\"", "\"\\ud800\"",
                      "{\"a\":1} x", "tru", "-", "{\"a\" 1}", String(repeating: "[", count: 40)])
    func refusesMalformed(_ text: String) {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(text) }
    }

    @Test func roundTripsEscapes() throws {
        let original = JSONValue.string("a\"b\\c\nd\u{01}é")
        #expect(try JSONReader.parse(original.json) == original)
    }
}
