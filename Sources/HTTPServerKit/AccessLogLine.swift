/// Python's log line, `127.0.0.1 - - [21/Oct/2015 09:28:00] "GET / HTTP/1.1" 200 -`, built into
/// one reused buffer and written to stderr in one write(2) (`AccessLog`).
///
/// Control characters (U+0000-U+001F, U+007F-U+009F) become `\xNN` and `\` becomes `\\`, as
/// Python's `log_message` does since 3.12: a request cannot forge log lines or send escape
/// sequences to the terminal.
struct AccessLogLine {
    private var line: [UInt8] = []

    /// The message of a request's line: `"GET / HTTP/1.1" 200 -`.
    static func requestMessage(_ requestline: String, code: Int, size: String) -> String {
        var message = "\""   // built piece by piece: cheaper than interpolation, once per request
        message.reserveCapacity(requestline.utf8.count + 8 + size.utf8.count)
        message += requestline
        message += "\" "
        message += String(code)
        message += " "
        message += size
        return message
    }

    /// Writes `client - - [time] message` and a newline to stderr.
    mutating func write(client: String, time: String, message: String) {
        line.removeAll(keepingCapacity: true)
        line.append(contentsOf: client.utf8)
        line.append(contentsOf: " - - [".utf8)
        line.append(contentsOf: time.utf8)
        line.append(contentsOf: "] ".utf8)
        var message = message
        message.withUTF8 { bytes in   // the UTF-8 bytes in place: no copy, no per-byte index checks
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == 0x5C {
                    line.append(0x5C)
                    line.append(0x5C)
                } else if byte < 0x20 || byte == 0x7F {
                    Self.appendHexEscape(byte, to: &line)
                } else if byte == 0xC2, index < bytes.count, (0x80...0x9F).contains(bytes[index]) {
                    Self.appendHexEscape(bytes[index], to: &line)   // U+0080-U+009F, two bytes in UTF-8
                    index += 1
                } else {
                    line.append(byte)
                }
            }
        }
        line.append(0x0A)
        AccessLog.write(line)
    }

    private static func appendHexEscape(_ byte: UInt8, to line: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        line.append(contentsOf: [0x5C, UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
    }
}
