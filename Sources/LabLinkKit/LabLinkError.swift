/// Why lab-link cannot start or go on: one line for the user, printed as `lab-link: ...`.
public struct LabLinkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
