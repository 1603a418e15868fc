import Foundation
import Glibc
import Testing
import TestSupport

/// `make install`, `make uninstall` and `make deb`, tried as a lab administrator would: the tools
/// run from the installed tree with no Swift toolchain on PATH and no checkout around them.
///
/// One suite, serialized, in the live phase ("Live": scripts/test runs it alone): `lesson run 3`
/// captures on lo as root, and the .deb is installed system-wide. Both tests share the release
/// build in .build-install (the make targets redo it only when a source changed), so the cost is
/// one release build per run. Under a sanitizer they are left out: they test release builds,
/// which a sanitizer run does not instrument.
@Suite("InstallLive", .live, .serialized,
       .disabled(if: Sanitizer.name != nil, "release builds without a sanitizer: make test runs these"))
struct InstallLiveTests {
    /// The executables every install must hold (a new executable product adds to them).
    static let knownTools = ["echo-client", "echo-server", "handshake-watch", "http-server", "lab-link", "lesson"]

    /// What `--version` must print: VERSION, and the commit when the package is the top of a git
    /// work tree (as Plugins/BuildInfoPlugin/write-build-info decides).
    static var expectedVersion: String {
        let version = (try? String(contentsOf: packageRoot.appendingPathComponent("VERSION"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        let git = { (arguments: [String]) in
            (try? runCommand("/usr/bin/env", ["git", "-C", packageRoot.path] + arguments)).flatMap { $0.status == 0 ? $0.stdout.first : nil }
        }
        if let top = git(["rev-parse", "--show-toplevel"]),
           URL(fileURLWithPath: top).resolvingSymlinksInPath() == packageRoot.resolvingSymlinksInPath(),
           let commit = git(["rev-parse", "--short", "HEAD"]) {
            return "sockettutor \(version) (\(commit))"
        }
        return "sockettutor \(version)"
    }

    /// The lesson files of the checkout (`NN-name.md`).
    static var lessonCount: Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("lessons").path)) ?? []
        return names.filter { $0.hasSuffix(".md") && $0.first?.isNumber == true }.count
    }

    /// Runs `make TARGET ...` in the checkout; a release build from nothing takes minutes.
    static func make(_ arguments: [String]) throws -> (status: Int32, stdout: [String], stderr: [String]) {
        try runCommand("/usr/bin/env", ["make", "-C", packageRoot.path] + arguments, timeout: 3600)
    }

    @Test("make install DESTDIR PREFIX=/usr/local: every tool runs from the tree, from /tmp, without Swift; uninstall removes it all")
    func installFromSource() throws {
        let destination = try TemporaryFolder()
        defer { destination.remove() }
        let installed = try Self.make(["install", "DESTDIR=\(destination.path)", "PREFIX=/usr/local"])
        #expect(installed.status == 0, "make install failed:\n\((installed.stdout + installed.stderr).suffix(30).joined(separator: "\n"))")
        guard installed.status == 0 else { return }

        let prefix = destination.path + "/usr/local"
        let bin = prefix + "/bin"
        // Only the installed bin and the system's: no toolchain, no .build, no checkout.
        let clean = ["-i", "PATH=\(bin):/usr/bin:/bin", "HOME=/tmp", "LANG=C.UTF-8"]
        let tools = try FileManager.default.contentsOfDirectory(atPath: bin).sorted()
        #expect(Set(Self.knownTools).isSubset(of: Set(tools)), "installed: \(tools)")

        for tool in tools {
            let version = try runCommand(bin + "/" + tool, ["--version"], prefix: clean, currentDirectory: "/tmp")
            #expect(version.status == 0 && version.stdout == [Self.expectedVersion], "\(tool) --version: \(version)")

            // The man page renders, and groff has nothing to warn about.
            let page = prefix + "/share/man/man1/\(tool).1"
            let man = try runCommand("/usr/bin/env", ["MANWIDTH=80", "man", "--warnings", "-l", page], currentDirectory: "/tmp")
            #expect(man.status == 0 && man.stderr.isEmpty, "man -l \(page): \(man.stderr)")
            #expect(man.stdout.contains { $0.contains(tool.uppercased() + "(1)") } && man.stdout.contains("NAME"), "\(tool).1")

            // The bash completion parses, and sourcing it registers a completion for the tool.
            let completion = prefix + "/share/bash-completion/completions/\(tool)"
            let syntax = try runCommand("/usr/bin/env", ["bash", "-n", completion])
            #expect(syntax.status == 0, "bash -n \(completion): \(syntax.stderr)")
            let registered = try runCommand("/usr/bin/env", ["bash", "-c", "source \"$1\" && complete -p \"$2\"", "-", completion, tool])
            #expect(registered.status == 0 && registered.stdout.first?.hasSuffix(" \(tool)") == true, "complete -p \(tool): \(registered)")
            for other in ["zsh/site-functions/_\(tool)", "fish/vendor_completions.d/\(tool).fish"] {
                #expect(FileManager.default.fileExists(atPath: prefix + "/share/" + other), "\(other)")
            }

            // The Swift runtime is inside the binary; libpcap stays the system's.
            let ldd = try runCommand("/usr/bin/env", ["ldd", bin + "/" + tool])
            #expect(ldd.status == 0 && !ldd.stdout.contains { $0.contains("libswift") || $0.contains("not found") },
                    "ldd \(tool):\n\(ldd.stdout.joined(separator: "\n"))")
            if tool == "handshake-watch" { #expect(ldd.stdout.contains { $0.contains("libpcap.so") }) }
        }

        // lesson finds PREFIX/share/sockettutor from its own path, from any folder.
        let list = try runCommand(bin + "/lesson", ["list"], prefix: clean, currentDirectory: "/tmp")
        #expect(list.status == 0 && list.stdout.count == Self.lessonCount, "lesson list: \(list)")
        #expect(list.stdout.first?.contains("What a socket is") == true)
        // Lesson 3 reads captures/... and runs the tools beside lesson (live as root, else replays).
        let run = try runCommand(bin + "/lesson", ["run", "3", "--auto"], prefix: clean, currentDirectory: "/tmp", timeout: 600)
        #expect(run.status == 0 && run.stdout.contains { $0.contains("End of lesson 3") },
                "lesson run 3 --auto:\n\((run.stdout + run.stderr).suffix(30).joined(separator: "\n"))")
        // SOCKETTUTOR_SHARE overrides where the lessons are looked for.
        let elsewhere = try runCommand(bin + "/lesson", ["list"], prefix: clean + ["SOCKETTUTOR_SHARE=/nonexistent/share"],
                                       currentDirectory: "/tmp")
        #expect(elsewhere.status == 1 && elsewhere.stderr == ["lesson: no lessons folder '/nonexistent/share/lessons'"], "\(elsewhere)")

        // uninstall takes away every file and every folder install made: DESTDIR is empty again.
        let uninstalled = try Self.make(["uninstall", "DESTDIR=\(destination.path)", "PREFIX=/usr/local"])
        #expect(uninstalled.status == 0, "make uninstall: \(uninstalled.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: destination.path)
        #expect(left.isEmpty, "left behind in DESTDIR: \(left)")
    }

    @Test("make deb: dpkg -i, a member of the sockettutor group captures without root, dpkg -r and --purge leave nothing",
          .enabled(if: Privileges.isRoot, "installs a package, adds a user and a group: needs root"),
          .disabled(if: Debian.isInstalled("sockettutor"), "sockettutor is installed on this machine: the test would remove it"),
          .disabled(if: Debian.groupExists("sockettutor"), "a group sockettutor exists already: the test's purge would delete it"))
    func debianPackage() throws {
        let built = try Self.make(["deb"])
        #expect(built.status == 0, "make deb failed:\n\((built.stdout + built.stderr).suffix(30).joined(separator: "\n"))")
        guard built.status == 0 else { return }
        let version = Self.expectedVersion.split(separator: " ")[1]
        let arch = try runCommand("/usr/bin/dpkg", ["--print-architecture"]).stdout.first ?? "?"
        let deb = packageRoot.appendingPathComponent(".build-install/sockettutor_\(version)_\(arch).deb").path

        // The control file: name, version, what it needs at run time, the maintainer scripts.
        let info = try runCommand("/usr/bin/dpkg-deb", ["--info", deb])
        #expect(info.status == 0)
        for expected in [" Package: sockettutor", " Version: \(version)", " Architecture: \(arch)", " Depends: "] {
            #expect(info.stdout.contains { $0.hasPrefix(expected) }, "\(expected) in:\n\(info.stdout.joined(separator: "\n"))")
        }
        let depends = info.stdout.first { $0.hasPrefix(" Depends: ") } ?? ""
        #expect(depends.contains("libpcap0.8") && depends.contains("libcap2-bin") && !depends.contains("swift"), "\(depends)")
        #expect(info.stdout.contains { $0.contains("postinst") } && info.stdout.contains { $0.contains("postrm") })

        // The files: only under /usr (the policy's places), each tool with its page and completions.
        let contents = try runCommand("/usr/bin/dpkg-deb", ["--contents", deb])
        let paths = contents.stdout.compactMap { $0.split(separator: " ").last.map(String.init) }
        #expect(contents.status == 0 && !paths.isEmpty)
        #expect(paths.allSatisfy { $0 == "./" || $0.hasPrefix("./usr/") }, "outside /usr: \(paths.filter { !$0.hasPrefix("./usr/") })")
        for tool in Self.knownTools {
            for path in ["./usr/bin/\(tool)", "./usr/share/man/man1/\(tool).1.gz", "./usr/share/bash-completion/completions/\(tool)",
                         "./usr/share/zsh/site-functions/_\(tool)", "./usr/share/fish/vendor_completions.d/\(tool).fish"] {
                #expect(paths.contains(path), "\(path) missing from the package")
            }
        }
        for path in ["./usr/share/sockettutor/lessons/03-three-way-handshake.md", "./usr/share/sockettutor/captures/echo-ipv4.pcap",
                     "./usr/share/doc/sockettutor/copyright"] {
            #expect(paths.contains(path), "\(path) missing from the package")
        }
        let files = contents.stdout.filter { !$0.hasPrefix("d") }.compactMap { $0.split(separator: " ").last.map { String($0.dropFirst()) } }

        // Install. Whatever happens next, purge it and remove the throwaway user.
        let user = "st-test-\(getpid())"
        defer {
            _ = try? runCommand("/usr/sbin/userdel", [user])
            _ = try? Debian.dpkg(["--purge", "sockettutor"])
        }
        let install = try Debian.dpkg(["-i", deb])
        #expect(install.status == 0, "dpkg -i: \(install.stdout + install.stderr)")
        guard install.status == 0 else { return }

        // handshake-watch: root:sockettutor 0750 with the capture capabilities; the rest 0755.
        let watcher = try FileManager.default.attributesOfItem(atPath: "/usr/bin/handshake-watch")
        #expect(watcher[.ownerAccountName] as? String == "root" && watcher[.groupOwnerAccountName] as? String == "sockettutor")
        #expect((watcher[.posixPermissions] as? Int) == 0o750)
        let capabilities = try runCommand("/usr/sbin/getcap", ["/usr/bin/handshake-watch"])
        #expect(capabilities.stdout == ["/usr/bin/handshake-watch cap_net_admin,cap_net_raw=eip"], "getcap: \(capabilities)")
        for tool in Self.knownTools where tool != "handshake-watch" {
            let attributes = try FileManager.default.attributesOfItem(atPath: "/usr/bin/\(tool)")
            #expect((attributes[.posixPermissions] as? Int) == 0o755, "\(tool)")
        }

        // A student: a throwaway user in the group, logged in by runuser (which sets the groups
        // from /etc/group, as a login does).
        let added = try runCommand("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                                         "--groups", "sockettutor", user])
        #expect(added.status == 0, "useradd: \(added.stderr)")
        guard added.status == 0 else { return }
        let asStudent = ["-u", user, "--"]

        // The student captures a connection of ours, live on lo, without root.
        let server = try ToolProcess("/usr/bin/echo-server", ["--port", "0", "--quiet"])
        defer { server.stop() }
        let port = try server.waitForPort(containing: "listening")
        let watch = try ToolProcess("/usr/sbin/runuser", asStudent + ["/usr/bin/handshake-watch", "-i", "lo", "-c", "3", "port \(port)"],
                                    currentDirectory: "/tmp")
        defer { watch.stop() }
        _ = try watch.waitForLine(containing: "listening on lo", onStderr: true)
        let client = try runCommand("/usr/bin/echo-client", ["--port", "\(port)", "hello"])
        #expect(client.status == 0, "echo-client: \(client)")
        #expect(try watch.waitForExit() == 0, "handshake-watch as \(user): \(watch.stderr)")
        #expect(watch.stdout.contains { $0.contains("[SYN]") && $0.contains("handshake 1/3") }, "\(watch.stdout)")
        #expect(watch.stdout.contains { $0.contains("[ACK]") && $0.contains("handshake 3/3") }, "\(watch.stdout)")
        // The student's own lessons come from /usr/share/sockettutor.
        let lessons = try runCommand("/usr/sbin/runuser", asStudent + ["/usr/bin/lesson", "list"], currentDirectory: "/tmp")
        #expect(lessons.status == 0 && lessons.stdout.count == Self.lessonCount, "lesson list as \(user): \(lessons)")
        // Someone outside the group cannot start it at all.
        let outsider = try runCommand("/usr/sbin/runuser", ["-u", "nobody", "--", "/usr/bin/handshake-watch", "--version"])
        #expect(outsider.status != 0 && outsider.stderr.contains { $0.contains("Permission denied") }, "nobody: \(outsider)")

        // dpkg -r: no file of the package left, nor its statoverride; the group stays until purge.
        _ = try runCommand("/usr/sbin/userdel", [user])
        let removed = try Debian.dpkg(["-r", "sockettutor"])
        #expect(removed.status == 0, "dpkg -r: \(removed.stderr)")
        let left = files.filter { FileManager.default.fileExists(atPath: $0) }
        #expect(left.isEmpty, "left after dpkg -r: \(left)")
        for folder in ["/usr/share/sockettutor", "/usr/share/doc/sockettutor"] {
            #expect(!FileManager.default.fileExists(atPath: folder), "\(folder) left after dpkg -r")
        }
        let overrides = try runCommand("/usr/bin/dpkg-statoverride", ["--list"])
        #expect(!overrides.stdout.contains { $0.contains("handshake-watch") }, "\(overrides.stdout)")
        #expect(Debian.groupExists("sockettutor"))
        // --purge: the group goes too, and dpkg forgets the package.
        let purged = try Debian.dpkg(["--purge", "sockettutor"])
        #expect(purged.status == 0, "dpkg --purge: \(purged.stderr)")
        #expect(!Debian.groupExists("sockettutor"))
        #expect(!Debian.isInstalled("sockettutor") && !Debian.isKnown("sockettutor"))
    }
}

/// Questions to dpkg and to the group database, and dpkg runs that wait for its lock.
enum Debian {
    /// True when dpkg lists `package` as installed.
    static func isInstalled(_ package: String) -> Bool {
        let status = try? runCommand("/usr/bin/dpkg-query", ["-W", "-f=${Status}", package])
        return status?.stdout.first?.hasSuffix(" installed") == true
    }

    /// True when dpkg still has any record of `package` (installed, or removed with its configuration).
    static func isKnown(_ package: String) -> Bool {
        let status = try? runCommand("/usr/bin/dpkg-query", ["-W", "-f=${Status}", package])
        return status?.status == 0 && status?.stdout.first?.hasSuffix("not-installed") != true
    }

    static func groupExists(_ name: String) -> Bool {
        (try? runCommand("/usr/bin/getent", ["group", name]))?.status == 0
    }

    /// dpkg with `arguments`. Another package manager on the machine (apt of a setup script) may
    /// hold dpkg's lock for a while: dpkg then refuses at once, so try again, for at most 300 s.
    static func dpkg(_ arguments: [String]) throws -> (status: Int32, stdout: [String], stderr: [String]) {
        let deadline = Date().addingTimeInterval(300)
        while true {
            let result = try runCommand("/usr/bin/dpkg", arguments, timeout: 600)
            let locked = result.status != 0 && result.stderr.contains { $0.contains("lock") }
            if !locked || Date() > deadline { return result }
            usleep(500_000)   // dpkg offers no way to wait for its lock
        }
    }
}

/// A fresh folder of /tmp, removed by `remove()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        var template = Array("/tmp/sockettutor-install-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(.EIO)
        }
        path = String(cString: made)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
