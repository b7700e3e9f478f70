import CTRCore

/// The sparse optimizer of one embedding, resolved from its `OptimizerParams` (HugeCTR's
/// `EmbeddingOptimizer`, which has no Ftrl or RMSProp update; SwiftCTR's Ftrl is the dense
/// formula on touched rows, as HugeCTR's embedding collection has it, on backends with
/// `hasSparseFtrl`).
///
/// ```swift
/// let adam = SparseOptimizer.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-7, global: true, lazy: false)
/// adam.stateCount   // 2: m and v per row
/// let momentum = SparseOptimizer.momentumSGD(factor: 0.9, global: false)
/// ```
public enum SparseOptimizer: Sendable, Equatable {
    case sgd
    case adam(beta1: Float, beta2: Float, epsilon: Float, global: Bool, lazy: Bool)
    /// Local and Global are the same update; the accumulator starts at `initialAccuValue`.
    case adaGrad(initialAccuValue: Float, epsilon: Float)
    case momentumSGD(factor: Float, global: Bool)
    case nesterov(mu: Float, global: Bool)
    /// Touched rows only, whatever the update type.
    case ftrl(beta: Float, lambda1: Float, lambda2: Float)

    /// State tensors per embedding, in HugeCTR's file order (API spec §4.6): Adam m, v (then
    /// LazyGlobal's per-row last step, which is not saved); AdaGrad accum; MomentumSGD momentum;
    /// Nesterov accum; Ftrl n, z; SGD none.
    public var stateCount: Int {
        switch self {
        case .sgd: 0
        case .adam(_, _, _, _, let lazy): lazy ? 3 : 2
        case .adaGrad, .momentumSGD, .nesterov: 1
        case .ftrl: 2
        }
    }

    /// The fp32 states among `stateCount` (all but LazyGlobal Adam's per-row last step).
    package var floatStateCount: Int {
        if case .adam(_, _, _, _, true) = self { 2 } else { stateCount }
    }

    /// The value every element of the float states starts at (AdaGrad's `initial_accu_value`).
    var initialState: Float {
        if case let .adaGrad(initial, _) = self { initial } else { 0 }
    }

    /// This step's update for learning rate `lr`, step counter `step` and gradient scale.
    func update(lr: Float, step: Int, gradScale: Float) -> SparseUpdate {
        switch self {
        case .sgd:
            .sgd(lr: lr, gradScale: gradScale)
        case let .adam(beta1, beta2, epsilon, global, lazy):
            lazy
                ? .adamLazyGlobal(lr: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, step: step, gradScale: gradScale)
                : global
                    ? .adamGlobal(lr: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, step: step, gradScale: gradScale)
                    : .adamLocal(lr: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, step: step, gradScale: gradScale)
        case let .adaGrad(_, epsilon):
            .adaGrad(lr: lr, epsilon: epsilon, gradScale: gradScale)
        case let .momentumSGD(factor, global):
            global ? .momentumGlobal(lr: lr, factor: factor, gradScale: gradScale)
                : .momentumLocal(lr: lr, factor: factor, gradScale: gradScale)
        case let .nesterov(mu, global):
            global ? .nesterovGlobal(lr: lr, mu: mu, gradScale: gradScale)
                : .nesterovLocal(lr: lr, mu: mu, gradScale: gradScale)
        case let .ftrl(beta, lambda1, lambda2):
            .ftrl(lr: lr, beta: beta, lambda1: lambda1, lambda2: lambda2, gradScale: gradScale)
        }
    }
}
