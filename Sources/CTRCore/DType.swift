/// Element type of a `Tensor`.
///
/// ```swift
/// let t = backend.makeTensor([4, 8], .bfloat16)
/// t.dtype.size   // 2 bytes per element
/// ```
public enum DType: String, Sendable, Codable, CustomStringConvertible {
    /// `bfloat16` and `float16` hold activations of mixed-precision training on a GPU.
    case float32, int64, int32, bfloat16, float16, float64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .int64, .float64: 8
        case .bfloat16, .float16: 2
        }
    }

    public var description: String { rawValue }
}
