import FuzzSupport
import LessonKit

/// `lesson`: the lesson parser. Any Markdown gives a lesson or a format error that names a line
/// of the text; a lesson's steps are numbered 1, 2, 3...; every command has a label and a
/// positive timeout; every expected line becomes a regular expression or a named-value error.
func check(_ input: UnsafeBufferPointer<UInt8>) {
    let text = String(decoding: input, as: UTF8.self)
    // Count lines as the parser does, by the byte 0x0A: a String's "\r\n" is one Character, so
    // splitting on the Character "\n" would count a CRLF text short.
    let lineCount = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).count
    let lesson: Lesson
    do {
        lesson = try LessonParser().parse(text, path: "fuzz.md", number: 1)
    } catch let error as LessonError {
        if case let .format(path, line, message) = error {
            invariant(path == "fuzz.md" && !message.isEmpty, "a format error without path or message")
            invariant(line >= 1 && line <= lineCount + 1, "format error at line \(line) of \(lineCount)")
        }
        return
    } catch {
        invariant(false, "parse threw something other than a LessonError: \(error)")
        return
    }
    for (index, step) in lesson.steps.enumerated() {
        invariant(step.number == index + 1, "step \(index + 1) numbered \(step.number)")
        for command in step.commands {
            invariant(!command.label.isEmpty, "a command without a label")
            invariant(command.timeout > 0 && command.timeout <= 3600, "a command with timeout \(command.timeout)")
        }
        for block in step.blocks {
            guard case .expect(let expectation) = block else { continue }
            for line in expectation.lines {
                // The parser checked the placeholders: only a named value ({port:NAME}) can be
                // unknown here, and matching a line of any length must end.
                do { _ = try line.matcher(values: [:]).matches(line.text) } catch let error as LessonError {
                    guard case .unknownValue = error else {
                        invariant(false, "an expected line failed with \(error)")
                        return
                    }
                } catch {
                    invariant(false, "an expected line failed to compile: \(line.text) (\(error))")
                }
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    check(fuzzBytes(data, size))
    return 0
}

@_cdecl("LessonFuzz_main")
func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzOne)
}
