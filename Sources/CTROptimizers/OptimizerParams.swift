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

    /// State tensors per dense weight (API spec §4.3): Adam m, v; AdaGrad accum; MomentumSGD
    /// momentum; Nesterov accum; Ftrl n, z; SGD none.
    public var denseStateCount: Int {
        switch optimizerType {
        case .adam, .ftrl: 2
        case .adaGrad, .momentumSGD, .nesterov, .rmsProp: 1
        case .sgd: 0
        }
    }

    /// Throws unless the optimizer can update dense weights with these hyper-parameters
    /// (`update_type` does not matter for dense weights).
    public func validateForDense() throws {
        try validateHyperParameters()
    }

    /// Throws unless the optimizer can update the rows of a hash embedding with this update type:
    /// RMSProp has no sparse update in HugeCTR, and LazyGlobal is Adam's only. Ftrl, which
    /// HugeCTR's hash embeddings lack (its embedding collection has it), passes: SwiftCTR updates
    /// the touched rows with it on the CPU backend (model building refuses it where a backend has
    /// no kernel for it).
    public func validateForSparse() throws {
        try validateHyperParameters()
        guard updateType != .lazyGlobal || optimizerType == .adam else {
            throw SwiftCTRError(.config, "update type LazyGlobal works with Adam only, found \(optimizerType.rawValue). Use .global or .local with \(optimizerType.rawValue), or optimizerType .adam with .lazyGlobal.")
        }
    }

    private func validateHyperParameters() throws {
        func fail(_ needs: String, _ found: String) -> SwiftCTRError {
            SwiftCTRError(.config, "\(optimizerType.rawValue) needs \(needs); found \(found). Fix the CreateOptimizer arguments.")
        }
        switch optimizerType {
        case .adam:
            guard beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && epsilon > 0 && epsilon.isFinite else {
                throw fail("0 ≤ beta1 < 1, 0 ≤ beta2 < 1 and epsilon > 0", "beta1 \(beta1), beta2 \(beta2), epsilon \(epsilon)")
            }
        case .adaGrad:
            guard initialAccuValue >= 0 && initialAccuValue.isFinite && epsilon >= 0 && epsilon.isFinite,
                  epsilon > 0 || initialAccuValue > 0 else {
                throw fail("initial_accu_value ≥ 0 and epsilon ≥ 0, not both 0 (a weight whose gradient is still 0 would get 0/0 = NaN)",
                           "initial_accu_value \(initialAccuValue), epsilon \(epsilon)")
            }
        case .momentumSGD, .nesterov:
            guard momentumFactor >= 0 && momentumFactor < 1 else {
                throw fail("0 ≤ momentum_factor < 1 (1 or more makes the steps grow without bound)",
                           "momentum_factor \(momentumFactor)")
            }
        case .ftrl:
            guard [beta, lambda1, lambda2].allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw fail("beta ≥ 0, lambda1 ≥ 0 and lambda2 ≥ 0", "beta \(beta), lambda1 \(lambda1), lambda2 \(lambda2)")
            }
        case .rmsProp:
            throw SwiftCTRError(.config, "optimizer RMSProp has no update for dense weights or hash embeddings in HugeCTR (only its embedding collection has one); use Adam, AdaGrad, MomentumSGD, Nesterov, Ftrl or SGD.")
        case .sgd:
            break
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
