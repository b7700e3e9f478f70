/// Every error a user can cause: it names where, what was expected, what was found, and the fix.
///
/// ```swift
/// throw SwiftCTRError(.config, "layer 'fc1': num_output must be ≥ 1, found 0. Set num_output.")
/// ```
public struct SwiftCTRError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        case config = "configuration error"
        case shape = "shape error"
        case data = "data error"
        case capacity = "capacity error"
        case device = "device error"
        case io = "file error"
        case numeric = "numeric error"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
