@preconcurrency import Glibc
import SocketCore

/// How lab-link knows which namespaces are its own, as the tracefs instance knows its buffer.
///
/// When it creates `st-client` and `st-server` it writes a claim,
/// `/run/sockettutor/lab-link/st.claim`: its pid and each namespace's identity (the inode of
/// `/run/netns/NAME`, unique among living namespaces). The name is claimed *before* `ip netns add`
/// runs (inode 0, "being created"), so a lab-link killed between the two leaves a claim that still
/// names it. At the next start a namespace of that name is removed only if the claim names it
/// (with the same inode, or as being created) and its lab-link has gone (SIGKILL, a crash); if
/// that lab-link still runs, or the claim does not name it, the name belongs to someone else and
/// lab-link stops with one line, touching nothing.
public struct LabClaim: Sendable {
    public static let folder = "/run/sockettutor/lab-link"
    public let topology: LabTopology
    /// The namespaces this run created, with their inodes (0 while `ip netns add` runs).
    public private(set) var owned: [(name: String, inode: UInt64)] = []

    public init(topology: LabTopology) { self.topology = topology }

    var path: String { Self.folder + "/" + topology.prefix + ".claim" }

    /// A recorded claim: the pid that wrote it and the namespaces it names.
    struct Record {
        var pid: pid_t
        var inodes: [String: UInt64]
    }

    /// Removes what a dead lab-link left behind and refuses names that belong to someone else.
    /// Returns one note per namespace removed (`removed st-client, left by lab-link pid 4242`).
    public func clearLeftovers() throws -> [String] {
        let names = [topology.clientNamespace, topology.serverNamespace]
        let record = readRecord()
        var stale: [String] = []
        for name in names {
            guard let inode = try Syscall.inode(of: LabTopology.namespacePath(name)) else { continue }
            // 0: the dead run was killed while `ip netns add` ran; the name was claimed before.
            guard let record, let claimed = record.inodes[name], claimed == inode || claimed == 0 else {
                throw LabLinkError("a network namespace named \(name) exists and is not lab-link's: left alone "
                                   + "(remove it with `ip netns del \(name)` if it is yours, or pick another --prefix)")
            }
            if Self.isLabLink(record.pid) {
                throw LabLinkError("\(name) belongs to lab-link pid \(record.pid), still running: "
                                   + "stop it, or pick another --prefix")
            }
            stale.append(name)
        }
        var notes: [String] = []
        for name in stale {
            try IPCommand.run(["netns", "del", name])
            notes.append("removed \(name), left behind by lab-link pid \(record!.pid)")
        }
        if record != nil, !Self.isLabLink(record!.pid) { try? Syscall.unlink(path) }
        return notes
    }

    /// Creates namespace `name` with `ip netns add`, claimed first (a SIGKILL at any point leaves a
    /// claim naming it), then recorded with its inode.
    public mutating func createNamespace(_ name: String) throws {
        owned.append((name, 0))
        try write()
        try IPCommand.run(["netns", "add", name])
        guard let inode = try Syscall.inode(of: LabTopology.namespacePath(name)) else {
            throw LabLinkError("`ip netns add \(name)` left no \(LabTopology.namespacePath(name))")
        }
        owned[owned.count - 1].inode = inode
        try write()
    }

    /// Removes the namespaces this run created (if they are still the same ones), then the claim.
    /// A namespace that could not be removed stays claimed, so the next start removes it.
    public mutating func release() {
        for (name, inode) in owned.reversed() {
            let present = try? Syscall.inode(of: LabTopology.namespacePath(name))
            if inode != 0 && present == inode {
                do { try IPCommand.run(["netns", "del", name]) } catch { Console.error("lab-link: \(error)") }
            }
            if present == nil || (try? Syscall.inode(of: LabTopology.namespacePath(name))) == nil {
                owned.removeAll { $0.name == name }
            }
        }
        if owned.isEmpty { try? Syscall.unlink(path) } else { try? write() }
    }

    private func write() throws {
        for folder in ["/run/sockettutor", Self.folder] where (try? Syscall.inode(of: folder)) == nil {
            do { try Syscall.mkdir(folder) } catch let error as SocketError where error.errno == Errno(rawValue: EEXIST) {}
        }
        var text = "pid \(getpid())\n"
        for (name, inode) in owned { text += "\(name) \(inode)\n" }
        try Syscall.writeFile(path, text)
    }

    private func readRecord() -> Record? {
        guard let bytes = try? Syscall.readFile(path, limit: 4096) else { return nil }
        var record = Record(pid: 0, inodes: [:])
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 2 else { continue }
            if words[0] == "pid" { record.pid = pid_t(words[1]) ?? 0 } else if let inode = UInt64(words[1]) {
                record.inodes[String(words[0])] = inode
            }
        }
        return record.pid > 0 ? record : nil
    }

    /// True when `pid` is a running lab-link (not a recycled pid of another program).
    static func isLabLink(_ pid: pid_t) -> Bool {
        guard Syscall.processExists(pid), let comm = try? Syscall.readFile("/proc/\(pid)/comm", limit: 64) else {
            return false
        }
        return String(decoding: comm, as: UTF8.self).hasPrefix("lab-link")
    }
}
