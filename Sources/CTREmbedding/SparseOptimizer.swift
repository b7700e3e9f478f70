/// The sparse optimizer of one embedding, resolved from its `OptimizerParams`.
///
/// ```swift
/// let adam = SparseOptimizer.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7, global: true, lazy: false)
/// adam.stateCount   // 2: m and v per row
/// ```
public enum SparseOptimizer: Sendable, Equatable {
    case sgd
    case adam(beta1: Float, beta2: Float, epsilon: Float, global: Bool, lazy: Bool)

    public var stateCount: Int {
        switch self {
        case .sgd: 0
        case .adam(_, _, _, _, let lazy): lazy ? 3 : 2
        }
    }
}
