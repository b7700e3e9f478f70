import CTRCore

/// Updates every dense weight once per step from its gradient (divided by the loss scaler), with
/// per-weight state. Adam: `m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
/// w −= lr·√(1−β2^t)/(1−β1^t)·m/(√v + ε)`; SGD: `w −= lr·g`. Cost: ~10 FLOPs per weight.
public final class DenseOptimizer {
    public let params: OptimizerParams
    /// Steps taken (Adam's t after the last update).
    public private(set) var step = 0
    let weights: [(value: Tensor, grad: Tensor)]
    /// Adam's m and v per weight tensor.
    let states: [[Tensor]]
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

/// HugeCTR's learning-rate schedule: linear warm-up, constant, then polynomial decay to `endLR`.
/// `next()` is called once before each training iteration (step counts from 1).
public struct LearningRateScheduler: Sendable {
    public var baseLR: Float, warmupSteps: Int, decayStart: Int, decaySteps: Int, decayPower: Float, endLR: Float
    public private(set) var step = 0

    public init(baseLR: Float, warmupSteps: Int = 1, decayStart: Int = 0, decaySteps: Int = 1,
                decayPower: Float = 2, endLR: Float = 0) throws {
        guard baseLR >= 0, decayPower >= 1, endLR >= 0, warmupSteps >= 0, decaySteps >= 1, decayStart >= 0 else {
            throw SwiftCTRError(.config, "learning-rate schedule needs lr ≥ 0, warmup_steps ≥ 0, decay_steps ≥ 1, decay_power ≥ 1 and end_lr ≥ 0; found lr \(baseLR), warmup_steps \(warmupSteps), decay_steps \(decaySteps), decay_power \(decayPower), end_lr \(endLR).")
        }
        self.baseLR = baseLR
        self.warmupSteps = warmupSteps
        self.decayStart = decayStart
        self.decaySteps = decaySteps
        self.decayPower = decayPower
        self.endLR = endLR
    }

    public mutating func next() -> Float {
        step += 1
        if step <= warmupSteps { return Float(step) * baseLR / Float(warmupSteps) }
        guard decayStart != 0 else { return baseLR }
        if step <= decayStart { return baseLR }
        if step <= decayStart + decaySteps {
            let f = Float(decayStart + decaySteps - step) / Float(decaySteps)
            return max(baseLR * powf_(f, decayPower), endLR)
        }
        return endLR
    }
}

@inline(__always)
func powf_(_ x: Float, _ y: Float) -> Float {
    Float(exp(Double(y) * log(Double(x))))
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
