/// Dense optimizer updates over flat weight tensors.
public protocol OptimizerKernels: AnyObject, Sendable {
    /// Adam on `count` elements with `g = grad·gradScale`; `step` is t ≥ 1.
    func adam(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, count: Int, lr: Float,
              beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float)
    /// `w −= lr·grad·gradScale`.
    func sgd(weight: Tensor, grad: Tensor, count: Int, lr: Float, gradScale: Float)
    /// AdaGrad: `a += g²; w −= lr·g/(ε + √a)` with `g = grad·gradScale`.
    func adaGrad(weight: Tensor, grad: Tensor, accum: Tensor, count: Int, lr: Float, epsilon: Float, gradScale: Float)
    /// MomentumSGD: `m = f·m − lr·g; w += m`.
    func momentumSGD(weight: Tensor, grad: Tensor, momentum: Tensor, count: Int, lr: Float, factor: Float,
                     gradScale: Float)
    /// Nesterov: `m′ = μ·m − lr·g; w += −μ·m + (1+μ)·m′; m = m′`.
    func nesterov(weight: Tensor, grad: Tensor, accum: Tensor, count: Int, lr: Float, mu: Float, gradScale: Float)
    /// Ftrl with `e = FLT_EPSILON`: `n′ = n + g²; z += g + (√(n+e) − √(n′+e))·w/lr;
    /// w = |z| > λ1 ? (λ1·sign(z) − z)/(√(n′+e)/lr + λ2 + β/lr) : 0; n = n′`. Nothing changes when
    /// `lr` is 0 (HugeCTR divides by it).
    func ftrl(weight: Tensor, grad: Tensor, n: Tensor, z: Tensor, count: Int, lr: Float, beta: Float, lambda1: Float,
              lambda2: Float, gradScale: Float)
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
