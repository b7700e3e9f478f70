/// Norm per-record integrity check (`hugectr.Check_t`): `.sum` frames the header and every sample
/// with a length and an 8-bit byte sum.
///
/// ```swift
/// let check = CheckType(rawValue: "Sum")   // .sum
/// ```
public enum CheckType: String, Codable, Sendable {
    case sum = "Sum"
    case none = "None"

    /// Value of the header's `error_check` field.
    public var headerValue: Int64 { self == .sum ? 1 : 0 }
}
