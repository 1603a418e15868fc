import Synchronization

/// A value a test shares with the threads it starts, behind a `Mutex`.
///
/// A final class whose only stored property is a `let` of a Sendable type (a `Mutex` is one) is
/// Sendable as it stands: the compiler checks it, no `@unchecked` needed.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    /// A copy of the value, read under the lock.
    public var value: Value { mutex.withLock { $0 } }

    public func set(_ value: Value) { mutex.withLock { $0 = value } }

    /// Changes the value in place under the lock (`counter.withLock { $0 += 1 }`).
    public func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { value in body(&value) }
    }
}
