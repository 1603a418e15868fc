/// Why a capture could not start: one line for the user, already phrased.
public struct CaptureError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
