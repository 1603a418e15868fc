import Foundation
import Glibc

/// Why a bounded wait gave up.
public struct WaitTimeout: Error, CustomStringConvertible {
    public let description: String
}

/// Polls `condition` (every 20 ms) until it holds, for states of another process that no line
/// announces (a descriptor closed, a thread gone). `timeout` is a bound for a machine far busier
/// than any test needs, never a figure the test relies on; a sanitizer build multiplies it
/// (`Sanitizer.waitScale`). The one wait of the test suites.
public func waitUntil(_ what: String, timeout: Double = 60, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(timeout * Sanitizer.waitScale)
    while !condition() {
        if Date() > deadline { throw WaitTimeout(description: "timed out waiting until \(what)") }
        usleep(20_000)
    }
}
