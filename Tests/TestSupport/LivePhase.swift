import Foundation
import Testing

/// Which phase of `scripts/test` is running: `parallel` (every suite but the live ones, in
/// parallel), else the live phase or a developer's own `swift test`.
public enum TestPhase {
    public static var current: String? { ProcessInfo.processInfo.environment["SOCKETTUTOR_TEST_PHASE"] }
}

extension Trait where Self == ConditionTrait {
    /// A live suite: it captures on `lo`, runs the lessons or makes namespaces, so no other
    /// test's traffic may land in it. `scripts/test` finds the suites marked `.live` in the
    /// sources and runs them in its second phase, alone and one test at a time; its first,
    /// parallel phase skips them. Chosen by this trait, not by a word in the suite's name.
    public static var live: Self {
        .enabled(if: TestPhase.current != "parallel", "a live suite: it runs alone, in the second phase of scripts/test")
    }
}
