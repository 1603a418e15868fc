import Foundation
import Glibc
import TestSupport

/// A temporary folder with a lesson file in it, for runner tests; removed by `remove()`.
struct TemporaryLesson {
    let folder: String
    let file: String

    /// Writes `text` as `01-test.md`; `DIR` in the text becomes the folder's path (so the lesson
    /// can leave pids and markers there for the test to read).
    init(_ text: String) throws {
        var template = Array("/tmp/lesson-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(.EIO)
        }
        folder = String(cString: made)
        file = folder + "/01-test.md"
        try text.replacingOccurrences(of: "DIR", with: folder).write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// A number the lesson wrote into `DIR/name`.
    func number(_ name: String) -> Int32? {
        guard let text = try? String(contentsOfFile: folder + "/" + name, encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The text the lesson wrote into `DIR/name`.
    func text(_ name: String) -> String? {
        (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: folder + "/" + name)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// Facts about processes, read from /proc.
enum Processes {
    /// True while `pid` exists and is not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Live processes whose process group is `group`.
    static func inGroup(_ group: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            // After "comm)": state, ppid, pgrp.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 3 && Int32(fields[2]) == group && fields[0] != "Z"
        }
    }

    /// Waits (bounded) until `pid` and its group are gone; returns whether they are.
    static func waitUntilGone(_ pid: Int32, timeout: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !isAlive(pid) && inGroup(pid).isEmpty { return true }
            usleep(20_000)   // polling another process's state; not synchronisation with it
        }
        return false
    }
}
