import CTRCore

/// Updates every dense weight once per step from its gradient `g = grad / scaler`, with
/// per-weight state (HugeCTR's dense optimizers, API spec §6.3; `update_type` has no effect):
/// - SGD: `w −= lr·g`
/// - Adam: `m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; w −= lr·√(1−β2^t)/(1−β1^t)·m/(√v + ε)`
/// - AdaGrad: `a += g²; w −= lr·g/(ε + √a)`, `a` starting at `initial_accu_value`
/// - MomentumSGD (f = `momentum_factor`): `m = f·m − lr·g; w += m`
/// - Nesterov (μ = `momentum_factor`): `m′ = μ·m − lr·g; w += −μ·m + (1+μ)·m′; m = m′`
/// - Ftrl (β, λ1, λ2): `n′ = n + g²; z += g + (√(n+e) − √(n′+e))·w/lr;
///   w = |z| > λ1 ? (λ1·sign(z) − z)/(√(n′+e)/lr + λ2 + β/lr) : 0`, e = FLT_EPSILON
///
/// Cost: 2–15 FLOPs per weight.
///
/// ```swift
/// let optimizer = try DenseOptimizer(CreateOptimizer(optimizerType: .nesterov, momentumFactor: 0.9),
///                                    weights: [(w, dw)], backend: backend)
/// optimizer.update(lr: 0.01, scaler: 1)   // after each backward pass
/// ```
public final class DenseOptimizer {
    public let params: OptimizerParams
    /// Steps taken (Adam's t after the last update).
    public private(set) var step = 0
    let weights: [(value: Tensor, grad: Tensor)]
    /// Each weight's state tensors (its shape, fp32) in HugeCTR's file order (API spec §4.3): Adam
    /// m, v; AdaGrad accum; MomentumSGD momentum; Nesterov accum; Ftrl n, z; SGD none.
    package let states: [[Tensor]]
    let backend: any Backend

    public init(_ params: OptimizerParams, weights: [(value: Tensor, grad: Tensor)], backend: any Backend) throws {
        try params.validateForDense()
        self.params = params
        self.weights = weights
        self.backend = backend
        let count = params.denseStateCount
        states = weights.map { w in (0..<count).map { _ in backend.makeTensor(w.value.shape, .float32) } }
        if params.optimizerType == .adaGrad && params.initialAccuValue != 0 {
            for state in states { backend.fill(state[0], params.initialAccuValue) }
        }
    }

    /// Sets the step counter, e.g. when resuming from a snapshot (HugeCTR's files do not keep it).
    package func restore(step: Int) {
        self.step = step
    }

    public func update(lr: Float, scaler: Float) {
        step += 1
        let p = params, scale = 1 / scaler
        for (weight, state) in zip(weights, states) {
            let (w, g, n) = (weight.value, weight.grad, weight.value.count)
            switch p.optimizerType {
            case .adam:
                backend.adam(weight: w, grad: g, m: state[0], v: state[1], count: n, lr: lr, beta1: p.beta1,
                             beta2: p.beta2, epsilon: p.epsilon, step: step, gradScale: scale)
            case .adaGrad:
                backend.adaGrad(weight: w, grad: g, accum: state[0], count: n, lr: lr, epsilon: p.epsilon, gradScale: scale)
            case .momentumSGD:
                backend.momentumSGD(weight: w, grad: g, momentum: state[0], count: n, lr: lr, factor: p.momentumFactor,
                                    gradScale: scale)
            case .nesterov:
                backend.nesterov(weight: w, grad: g, accum: state[0], count: n, lr: lr, mu: p.momentumFactor,
                                 gradScale: scale)
            case .ftrl:
                backend.ftrl(weight: w, grad: g, n: state[0], z: state[1], count: n, lr: lr, beta: p.beta,
                             lambda1: p.lambda1, lambda2: p.lambda2, gradScale: scale)
            case .sgd:
                backend.sgd(weight: w, grad: g, count: n, lr: lr, gradScale: scale)
            case .rmsProp:
                preconditionFailure("validateForDense refuses RMSProp")
            }
        }
    }
}
