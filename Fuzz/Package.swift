// swift-tools-version:6.0
// The fuzz targets: one libFuzzer executable per parser that takes bytes from outside.
// Built only by `make fuzz` (with -sanitize=fuzzer,address), never by the main package's build.
import PackageDescription

/// One fuzz target `name`: the executable `fuzz-<name>` (the prefix keeps `lesson` apart from
/// the main package's lesson runner), from `Sources/<module>/`, linking `libraries`.
func fuzzTarget(_ name: String, _ module: String, _ libraries: [String]) -> (Product, Target) {
    (.executable(name: "fuzz-" + name, targets: [module]),
     .executableTarget(name: module,
                       dependencies: ["FuzzSupport"] + libraries.map { .product(name: $0, package: "sockettutor") },
                       swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}

let targets = [
    fuzzTarget("http-request", "HTTPRequestFuzz", ["HTTPServerKit", "SocketCore"]),
    fuzzTarget("translate-path", "TranslatePathFuzz", ["HTTPServerKit"]),
    fuzzTarget("range", "RangeFuzz", ["HTTPServerKit"]),
    fuzzTarget("packet", "PacketFuzz", ["HandshakeKit"]),
    fuzzTarget("tracker", "TrackerFuzz", ["HandshakeKit"]),
    fuzzTarget("lesson", "LessonFuzz", ["LessonKit"]),
    fuzzTarget("events", "EventsFuzz", ["Timeline"]),
]

let package = Package(
    name: "sockettutor-fuzz",
    products: targets.map(\.0),
    // Through the `sockettutor` link (to ..), so the package identity does not depend on the name
    // of the folder the project was cloned into.
    dependencies: [.package(path: "sockettutor")],
    targets: [
        // The libFuzzer driver entry and the invariant check every target shares.
        .target(name: "FuzzSupport"),
    ] + targets.map(\.1),
    swiftLanguageModes: [.v6]
)
