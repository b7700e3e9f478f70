/// The sparse optimizer of one embedding, resolved from its `OptimizerParams`.
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
