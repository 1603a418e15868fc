@preconcurrency import Glibc

/// What handshake-watch's text lines are for, from `SOCKETTUTOR_LINES`, set by a program that
/// reads them: `paired` (the lesson runner shows the brief form and checks the whole one) or
/// `whole` (lines never wrapped: the runner with `--verbose` fits them itself; the tests parse
/// them). Unset: for a person, fitted to the terminal, `$COLUMNS` or 80 (`--width`).
public enum LinesForm: String, Sendable {
    case paired
    case whole

    /// The environment variable that asks for it.
    public static let variable = "SOCKETTUTOR_LINES"
    /// The byte between a paired line's two forms (ASCII's Record Separator): the brief form
    /// before it, the whole one after it (`PairedLinesRenderer`).
    public static let separator: UInt8 = 0x1E

    /// The form the environment asks for, if any.
    public static func fromEnvironment() -> LinesForm? {
        guard let value = getenv(variable) else { return nil }
        return LinesForm(rawValue: String(cString: value))
    }
}
