import CTRCore

/// `Optimizer_t`.
public enum OptimizerType: String, Sendable, Codable, CaseIterable {
    case ftrl = "Ftrl", adam = "Adam", rmsProp = "RMSProp", adaGrad = "AdaGrad"
    case momentumSGD = "MomentumSGD", nesterov = "Nesterov", sgd = "SGD"
}

/// `Update_t`: which embedding rows a sparse optimizer step touches.
public enum UpdateType: String, Sendable, Codable {
    /// Only the rows hit in this batch.
    case local = "Local"
    /// Every row, untouched ones with a zero gradient.
    case global = "Global"
    /// Adam only: touched rows catch up on the skipped zero-gradient steps.
    case lazyGlobal = "LazyGlobal"
}

/// An optimizer and its hyper-parameters, as HugeCTR's `CreateOptimizer` makes them. The learning
/// rate comes from the solver (and its scheduler), not from here.
///
/// ```swift
/// let adam = OptimizerParams(optimizerType: .adam, updateType: .global, epsilon: 1e-4)
/// ```
public struct OptimizerParams: Sendable, Codable, Equatable {
    public var optimizerType: OptimizerType
    public var updateType: UpdateType
    public var beta: Float
    public var lambda1: Float
    public var lambda2: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var initialAccuValue: Float
    public var momentumFactor: Float
    public var atomicUpdate: Bool

    public init(optimizerType: OptimizerType = .adam, updateType: UpdateType = .global, beta: Float = 0,
                lambda1: Float = 0, lambda2: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-7, initialAccuValue: Float = 0, momentumFactor: Float = 0,
                atomicUpdate: Bool = true) {
        self.optimizerType = optimizerType
        self.updateType = updateType
        self.beta = beta
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.initialAccuValue = initialAccuValue
        self.momentumFactor = momentumFactor
        self.atomicUpdate = atomicUpdate
    }

    /// Optimizer-state copies per weight (HugeCTR's S in the workspace formula).
    public var stateCopies: Int {
        switch optimizerType {
        case .adam: updateType == .lazyGlobal ? 3 : 2
        case .ftrl: 2
        case .adaGrad, .momentumSGD, .nesterov, .rmsProp: 1
        case .sgd: 0
        }
    }

    /// Throws unless this version can run the optimizer on dense weights.
    public func validateForDense() throws {
        guard optimizerType == .adam || optimizerType == .sgd else {
            throw SwiftCTRError(.config, "optimizer \(optimizerType.rawValue) is not available in this version of SwiftCTR; use .adam or .sgd.")
        }
        if optimizerType == .adam {
            guard beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && epsilon > 0 else {
                throw SwiftCTRError(.config, "Adam needs 0 ≤ beta1 < 1, 0 ≤ beta2 < 1 and epsilon > 0; found beta1 \(beta1), beta2 \(beta2), epsilon \(epsilon).")
            }
        }
    }
}

/// Spelling of HugeCTR's `hugectr.CreateOptimizer(...)`.
public func CreateOptimizer(optimizerType: OptimizerType = .adam, updateType: UpdateType = .global, beta: Float = 0,
                            lambda1: Float = 0, lambda2: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999,
                            epsilon: Float = 1e-7, initialAccuValue: Float = 0, momentumFactor: Float = 0,
                            atomicUpdate: Bool = true) -> OptimizerParams {
    OptimizerParams(optimizerType: optimizerType, updateType: updateType, beta: beta, lambda1: lambda1, lambda2: lambda2,
                    beta1: beta1, beta2: beta2, epsilon: epsilon, initialAccuValue: initialAccuValue,
                    momentumFactor: momentumFactor, atomicUpdate: atomicUpdate)
}
