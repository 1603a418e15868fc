import Foundation

/// What a sanitizer build (`make test-tsan`, `make test-asan`; see scripts/test-sanitizer)
/// changes for the tests: everything runs several times slower, and ThreadSanitizer adds one
/// background thread to every process.
public enum Sanitizer {
    /// `thread` or `address` under scripts/test-sanitizer, nil otherwise (SOCKETTUTOR_SANITIZER).
    public static let name = ProcessInfo.processInfo.environment["SOCKETTUTOR_SANITIZER"]

    /// Bounds on waits are multiplied by this: 1 normally, 10 under a sanitizer. Waits stay
    /// bounded; only the bound grows.
    public static let waitScale: Double = name == nil ? 1 : 10

    /// Threads a sanitizer's runtime adds to each process (ThreadSanitizer's background thread).
    public static let extraThreads = name == "thread" ? 1 : 0
}
