import Testing
@testable import LessonKit

/// Key lines with placeholders, and the helpers that read ports and times from output.
@Suite struct ExpectedLineTests {
    @Test func literalTextMatchesAsASubstring() throws {
        let line = ExpectedLine("[SYN,ACK] seq 0 ack 1")
        #expect(try line.matches("21:38:48.359087 #1 a → b [SYN,ACK] seq 0 ack 1 len 0", values: [:]))
        #expect(try !line.matches("[SYN] seq 0", values: [:]))
    }

    @Test func regexCharactersAreLiteral() throws {
        let line = ExpectedLine("users:((\"echo-server\",pid={n},fd={n}))")
        #expect(try line.matches("LISTEN 0 5 127.0.0.1:1 users:((\"echo-server\",pid=12,fd=3))", values: [:]))
        #expect(try !ExpectedLine("a.c").matches("abc", values: [:]))
        #expect(try ExpectedLine("(x)*").matches("((x)*)", values: [:]))
    }

    @Test func placeholders() throws {
        let values = ["port:server": "40123", "pid:server": "777"]
        #expect(try ExpectedLine("{time} accept(fd {n}) -> fd {n} from 127.0.0.1:{port}")
            .matches("21:38:48.359292 accept(fd 3) -> fd 4 from 127.0.0.1:48912", values: values))
        #expect(try ExpectedLine("listening 127.0.0.1:{port:server}").matches("server start, listening 127.0.0.1:40123", values: values))
        #expect(try !ExpectedLine("listening 127.0.0.1:{port:server}").matches("server start, listening 127.0.0.1:40124", values: values))
        #expect(try ExpectedLine("pid={pid:server},").matches("pid=777,fd=3", values: values))
        #expect(try ExpectedLine("a{any}b").matches("a then b", values: values))
        #expect(try !ExpectedLine("{time}").matches("21:38:48", values: values))
        // An unknown placeholder is an error; {{ and }} are literal braces.
        #expect(throws: LessonError.badPlaceholder("other")) { try ExpectedLine("{other}").matches("x {other} y", values: values) }
        #expect(try ExpectedLine("{{sa_family=AF_INET, sin_port=htons({port})}}").matches("connect(3, {sa_family=AF_INET, sin_port=htons(5000)}, 16)", values: values))
    }

    @Test func unknownNamedValueIsAnError() {
        #expect(throws: LessonError.unknownValue("port:nobody")) {
            try ExpectedLine("{port:nobody}").matches("1", values: [:])
        }
    }

    @Test func linesMustAppearInOrder() throws {
        let output = ["one", "noise", "two", "three"]
        let inOrder = [ExpectedLine("one"), ExpectedLine("two"), ExpectedLine("three")]
        #expect(try firstMissingLine(inOrder, in: output, values: [:]) == nil)
        let swapped = [ExpectedLine("two"), ExpectedLine("one")]
        #expect(try firstMissingLine(swapped, in: output, values: [:]) == 1)
        // Each expected line needs its own output line.
        #expect(try firstMissingLine([ExpectedLine("t"), ExpectedLine("t"), ExpectedLine("t")], in: output, values: [:]) == 2)
    }

    @Test(arguments: [
        ("server start, listening 127.0.0.1:43210", 43210),
        ("server start, listening [::1]:5000", 5000),
        ("Serving HTTP on 127.0.0.1 port 8000 (http://127.0.0.1:8000/) ...", 8000),
        ("Serving HTTP on :: port 39001 (http://[::]:39001/) ...", 39001),
    ])
    func portFromReadinessLine(line: String, port: Int) {
        #expect(LessonRunner.port(in: line) == port)
    }

    @Test func noPortInAWatchersReadyLine() {
        #expect(LessonRunner.port(in: "listening on lo, link-type EN10MB (Ethernet), snapshot length 256 bytes") == nil)
    }

}
