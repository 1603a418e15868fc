@preconcurrency import Glibc

/// What the tools ask about the terminal: whether output goes to one (colour, per-line
/// flushing), and how wide it is (ioctl(2) TIOCGWINSZ).
extension Syscall {
    /// isatty(3): true when `fd` is a terminal.
    public static func isTerminal(_ fd: Int32) -> Bool {
        Glibc.isatty(fd) == 1
    }

    /// ioctl(2) TIOCGWINSZ: the terminal's width in columns, or nil when `fd` is no terminal.
    public static func terminalColumns(_ fd: Int32) -> Int? {
        var size = winsize()
        guard Glibc.ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// `$COLUMNS`, the width a user or a script asks for when the output is no terminal (as
    /// `ls` reads it); nil when unset or not a positive number. Not a system call: the
    /// environment's answer to the same question as TIOCGWINSZ.
    public static func columnsVariable() -> Int? {
        guard let text = getenv("COLUMNS").map({ String(cString: $0) }), let columns = Int(text), columns > 0 else { return nil }
        return columns
    }
}
