/// Why a lesson could not be read or did not run as its text promises. The description is the
/// one line (or short paragraph) `lesson` prints.
public enum LessonError: Error, CustomStringConvertible, Equatable {
    /// The Markdown breaks a rule of the lesson format (file, line, what is wrong).
    case format(path: String, line: Int, message: String)
    /// No lesson with that number, or the lessons folder is missing.
    case notFound(String)
    /// `{port:NAME}` or `{pid:NAME}` names a command that has not printed a port or is not running.
    case unknownValue(String)
    /// `{name}` in an expected line is no placeholder (`{{` and `}}` are literal braces).
    case badPlaceholder(String)
    /// A step did not do what the lesson says (the runner's report of the difference).
    case stepFailed(String)
    /// Ctrl-C or SIGTERM.
    case interrupted

    public var description: String {
        switch self {
        case let .format(path, line, message): return "\(path):\(line): \(message)"
        case let .notFound(what): return what
        case let .unknownValue(name): return "{\(name)} is not known at this point of the lesson"
        case let .badPlaceholder(name):
            return "{\(name)} is no placeholder (they are {any}, {n}, {port}, {time}, {port:NAME}, {pid:NAME}; write {{ and }} for literal braces)"
        case let .stepFailed(report): return report
        case .interrupted: return "interrupted"
        }
    }
}
