// swift-tools-version:6.0
// sockettutor: sockets and TCP, made visible. One socket core, four tools, lessons.
import PackageDescription

let package = Package(
    name: "sockettutor",
    products: [
        .executable(name: "echo-server", targets: ["EchoServer"]),
        .executable(name: "echo-client", targets: ["EchoClient"]),
        .executable(name: "http-server", targets: ["HTTPServer"]),
        .executable(name: "handshake-watch", targets: ["HandshakeWatch"]),
        .executable(name: "lesson", targets: ["Lesson"]),
        .executable(name: "lab-link", targets: ["LabLink"]),
        .library(name: "SocketCore", targets: ["SocketCore"]),
        .library(name: "Timeline", targets: ["Timeline"]),
        // The parsers and decoders as libraries, so the fuzz targets in Fuzz/ can link them.
        .library(name: "HTTPServerKit", targets: ["HTTPServerKit"]),
        .library(name: "HandshakeKit", targets: ["HandshakeKit"]),
        .library(name: "LessonKit", targets: ["LessonKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The socket core: every Glibc socket call of the project lives in Sources/SocketCore/Syscalls.
        .target(name: "SocketCore", dependencies: ["CLinux"]),

        // The timeline every view shares: events (packets, system calls, output, kernel), their
        // JSON Lines form, the `.events.jsonl` sidecar of a capture, and the merge.
        .target(name: "Timeline", dependencies: ["SocketCore"]),

        // `--version` of every tool: VERSION and the git commit, written before each build by the plugin.
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),

        // The classic echo pair.
        .executableTarget(name: "EchoServer", dependencies: [
            "BuildInfo", "SocketCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "EchoClient", dependencies: [
            "BuildInfo", "SocketCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Python's http.server, re-created: server + request handlers.
        .target(name: "HTTPServerKit", dependencies: ["SocketCore", "CLinux"]),
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),   // epoll and openat2, missing from Glibc's module
        .executableTarget(name: "HTTPServer", dependencies: [
            "BuildInfo", "HTTPServerKit", "SocketCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // libpcap, as a system library (apt: libpcap-dev).
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "HandshakeKit", dependencies: ["CPcap", "KernelKit", "LiveView", "ProcessTrace", "SocketCore", "Timeline"]),
        // The tracer of any program: ptrace(2) + a seccomp filter, stamped at the stops (-- COMMAND, --pid).
        .target(name: "ProcessTrace", dependencies: ["SocketCore", "Timeline", "CLinux"]),
        // The kernel's view: tracepoints (tracefs), the socket table (sock_diag), TcpExt counters.
        .target(name: "KernelKit", dependencies: ["SocketCore", "Timeline", "CPcap"]),
        .executableTarget(name: "HandshakeWatch", dependencies: [
            "BuildInfo", "HandshakeKit", "KernelKit", "LiveView", "ProcessTrace", "SocketCore", "Timeline", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // The projector view: the ladder diagram as a web page (embedded) and as a standalone SVG.
        .target(name: "LiveView", dependencies: ["HTTPServerKit", "Timeline", "SocketCore"],
                resources: [.embedInCode("Resources/index.html")]),

        // The lesson runner.
        .target(name: "LessonKit", dependencies: ["SocketCore", "Timeline", "CLinux", "CCrashGuard"]),
        .target(name: "CCrashGuard", path: "Sources/CCrashGuard"),   // kills the lesson's process groups if the runner crashes   // CLinux: prctl(2)
        .executableTarget(name: "Lesson", dependencies: [
            "BuildInfo", "LessonKit", "LiveView", "SocketCore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // The lab network: a link with delay, loss and a bottleneck between two namespaces (TUN).
        .target(name: "LabLinkKit", dependencies: ["SocketCore", "Timeline", "CPcap"]),
        .executableTarget(name: "LabLink", dependencies: [
            "LabLinkKit", "SocketCore", "BuildInfo", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Tests. TestSupport starts the built executables as real processes and reads their output.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SocketCoreTests", dependencies: ["SocketCore", "TestSupport"]),
        .testTarget(name: "EchoTests", dependencies: ["SocketCore", "TestSupport"]),
        .testTarget(name: "HTTPServerKitTests", dependencies: ["HTTPServerKit", "SocketCore", "TestSupport"]),
        .testTarget(name: "HandshakeKitTests", dependencies: ["HandshakeKit", "KernelKit", "SocketCore", "Timeline", "TestSupport"],
                    exclude: ["Corpus"]),   // seed frames for the fuzz test, read from the source tree
        // LiveView's tests. Not "LiveViewTests": scripts/test runs names containing "Live" as
        // serialised live-capture suites.
        .testTarget(name: "ProjectorViewTests", dependencies: ["LiveView", "HTTPServerKit", "SocketCore", "Timeline", "TestSupport"],
                    exclude: ["Fixtures"]),   // events and golden SVG files, read from the source tree
        .testTarget(name: "KernelKitTests", dependencies: ["KernelKit", "Timeline", "SocketCore", "TestSupport"]),
        .testTarget(name: "TimelineTests", dependencies: ["Timeline", "SocketCore", "TestSupport"]),
        .testTarget(name: "LabLinkKitTests", dependencies: ["LabLinkKit", "SocketCore", "Timeline", "TestSupport"]),
        .testTarget(name: "ProcessTraceTests", dependencies: ["ProcessTrace", "SocketCore", "Timeline", "TestSupport"]),
        .testTarget(name: "LessonKitTests", dependencies: ["LessonKit", "SocketCore", "Timeline", "TestSupport"]),
        // make install / make deb, run as a lab administrator would (release builds: the live phase).
        .testTarget(name: "InstallTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
