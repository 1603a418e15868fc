import Foundation

/// The lessons folder: finds it, lists its lessons, and reads one by number or path.
public struct Catalog: Sendable {
    /// The `lessons/` folder.
    public let folder: String

    public init(folder: String) { self.folder = folder }

    /// The same folder as an absolute path, from the current folder (the runner then moves to
    /// the package root, where a relative one would name another folder).
    public var absolute: Catalog { Catalog(folder: URL(fileURLWithPath: folder).standardizedFileURL.path) }

    /// `lessons/` found from, in order:
    /// 1. `$SOCKETTUTOR_LESSONS` (the folder itself), then `$SOCKETTUTOR_SHARE/lessons`;
    /// 2. a checkout: the current folder and its parents, then the folders above the `lesson`
    ///    executable (`.build/debug/lesson` → the package root);
    /// 3. an installation: `share/sockettutor/lessons` beside the executable's `bin/`
    ///    (`/usr/local/bin/lesson` → `/usr/local/share/sockettutor/lessons`), where `make install`
    ///    and the .deb put the lessons with captures/, examples/, scripts/ and Sources/.
    public static func locate(executable: String) -> Catalog? {
        let environment = ProcessInfo.processInfo.environment
        if let override = environment["SOCKETTUTOR_LESSONS"] {
            return Catalog(folder: override)
        }
        if let share = environment["SOCKETTUTOR_SHARE"] {
            return Catalog(folder: share + "/lessons")
        }
        let starts = [FileManager.default.currentDirectoryPath, executable]
        for start in starts {
            var folder = URL(fileURLWithPath: start)
            while folder.path != "/" {
                let candidate = folder.appendingPathComponent("lessons")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("README.md").path) {
                    return Catalog(folder: candidate.path)
                }
                folder.deleteLastPathComponent()
            }
        }
        let installed = Catalog(folder: installedShare(executable: executable) + "/lessons")
        if FileManager.default.fileExists(atPath: installed.folder) { return installed }
        return nil
    }

    /// `PREFIX/share/sockettutor` for an executable installed as `PREFIX/bin/lesson`.
    public static func installedShare(executable: String) -> String {
        URL(fileURLWithPath: executable).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/sockettutor").path
    }

    /// The package root: the folder holding `lessons/` (commands run there, so `captures/...` and
    /// `Sources/...` in a lesson are found): the checkout, or `PREFIX/share/sockettutor`.
    public var packageRoot: String {
        URL(fileURLWithPath: folder).deletingLastPathComponent().path
    }

    /// Lesson files (`NN-name.md`), in order. A folder that is missing, unreadable or holds no
    /// lesson is an error: the lessons could not "all pass" by not being there.
    public func files() throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue,
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw LessonError.notFound("no lessons folder '\(folder)'")
        }
        let lessons = names.filter { $0.hasSuffix(".md") && $0.first?.isNumber == true }.sorted()
        guard !lessons.isEmpty else {
            throw LessonError.notFound("no lessons in '\(folder)' (lesson files are named like 01-title.md)")
        }
        return lessons.map { folder + "/" + $0 }
    }

    /// All lessons, parsed (a broken one is an error naming its file and line).
    public func lessons() throws -> [Lesson] {
        try files().map { try LessonParser().parse(file: $0) }
    }

    /// Lesson `which`: a number (`3`) or a path to a lesson file.
    public func lesson(_ which: String) throws -> Lesson {
        if let number = Int(which) {
            for file in try files() {
                let name = file.split(separator: "/").last ?? ""
                if Int(name.prefix(while: \.isNumber)) == number { return try LessonParser().parse(file: file) }
            }
            throw LessonError.notFound("no lesson \(number) in \(folder) (`lesson list` shows them)")
        }
        guard FileManager.default.fileExists(atPath: which) else {
            throw LessonError.notFound("no lesson \(which): give a number from `lesson list` or a lesson file")
        }
        return try LessonParser().parse(file: which)
    }
}
