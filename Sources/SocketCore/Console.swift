@preconcurrency import Glibc

/// What the tools print, and how it reaches a pipe.
///
/// stdio buffers stdout in 4 KiB blocks when it is a pipe, so a test or a lesson reading our output
/// would wait for lines the program has already "printed". `lineBuffered()` switches stdout to line
/// buffering, and `line(_:)` flushes anyway: every line leaves the process when it is printed.
public enum Console {
    /// Makes stdout line-buffered even into a pipe. Call once, first thing in `main`.
    public static func lineBuffered() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }

    /// Prints one line on stdout and flushes it.
    ///
    /// With `--trace`, the line leaves through one traced write(2) (`write(fd 1, "...\n", 36)`):
    /// stdout and the trace on stderr are two pipes, and the write's stamp is what puts the
    /// line in its place among the calls. The bytes on stdout are the same either way.
    public static func line(_ text: String) {
        guard Trace.isEnabled else {
            fputs(text + "\n", stdout)
            fflush(stdout)
            return
        }
        // stdout's lock: no other thread's line (nor Console.exit) gets between flush and write.
        flockfile(stdout)
        defer { funlockfile(stdout) }
        fflush_unlocked(stdout)
        var bytes = Array(text.utf8)
        bytes.append(0x0A)
        _ = try? bytes.withUnsafeBytes { try Syscall.writeAll(STDOUT_FILENO, $0) }
    }

    /// Prints one line on stderr (unbuffered by C's rules).
    public static func error(_ text: String) {
        fputs(text + "\n", stderr)
    }

    /// Shows bytes the way Python shows them in the classic echo lesson: text stays text,
    /// anything else becomes `\xNN`, so a line never carries raw control bytes to the terminal.
    public static func printable(_ bytes: some Collection<UInt8>) -> String {
        var out = ""
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }
}
