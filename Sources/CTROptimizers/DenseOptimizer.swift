import CTRCore

/// Updates every dense weight once per step from its gradient (divided by the loss scaler), with
/// per-weight state. Adam: `m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
/// w −= lr·√(1−β2^t)/(1−β1^t)·m/(√v + ε)`; SGD: `w −= lr·g`. Cost: ~10 FLOPs per weight.
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
        states = weights.map { w in
            params.optimizerType == .adam
                ? [backend.makeTensor(w.value.shape, .float32), backend.makeTensor(w.value.shape, .float32)] : []
        }
    }

    /// Sets the step counter, e.g. when resuming from a snapshot (HugeCTR's files do not keep it).
    package func restore(step: Int) {
        self.step = step
    }

    public func update(lr: Float, scaler: Float) {
        step += 1
        for (weight, state) in zip(weights, states) {
            if params.optimizerType == .adam {
                backend.adam(weight: weight.value, grad: weight.grad, m: state[0], v: state[1], count: weight.value.count,
                             lr: lr, beta1: params.beta1, beta2: params.beta2, epsilon: params.epsilon, step: step,
                             gradScale: 1 / scaler)
            } else {
                backend.sgd(weight: weight.value, grad: weight.grad, count: weight.value.count, lr: lr, gradScale: 1 / scaler)
            }
        }
    }
}
