/// Dense optimizer updates over flat weight tensors.
public protocol OptimizerKernels: AnyObject, Sendable {
    /// Adam on `count` elements with `g = grad·gradScale`; `step` is t ≥ 1.
    func adam(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, count: Int, lr: Float,
              beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float)
    /// `w −= lr·grad·gradScale`.
    func sgd(weight: Tensor, grad: Tensor, count: Int, lr: Float, gradScale: Float)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Adam's bias-corrected step size `lr·√(1−β2^t)/(1−β1^t)` for step `t ≥ 1`, shared by every
/// backend so that they agree to the last bit.
public func adamAlpha(lr: Float, beta1: Float, beta2: Float, step: Int) -> Float {
    let t = Double(step)
    return Float(Double(lr) * (1 - pow(Double(beta2), t)).squareRoot() / (1 - pow(Double(beta1), t)))
}
