import CTRCore

/// Dense optimizer updates.
extension CPUBackend {
    public func adam(weight: Tensor, grad: Tensor, m: Tensor, v: Tensor, count: Int, lr: Float,
                     beta1: Float, beta2: Float, epsilon: Float, step: Int, gradScale: Float) {
        let pw = weight.hostPointer(as: Float.self), pg = grad.hostPointer(as: Float.self)
        let pm = m.hostPointer(as: Float.self), pv = v.hostPointer(as: Float.self)
        let alpha = adamAlpha(lr: lr, beta1: beta1, beta2: beta2, step: step)
        parallelFor(count, threads: threads) { range in
            for i in range {
                adamElement(pw + i, pm + i, pv + i, pg[i] * gradScale, alpha, beta1, beta2, epsilon)
            }
        }
    }

    public func sgd(weight: Tensor, grad: Tensor, count: Int, lr: Float, gradScale: Float) {
        let pw = weight.hostPointer(as: Float.self), pg = grad.hostPointer(as: Float.self)
        let step = lr * gradScale
        parallelFor(count, threads: threads) { range in
            for i in range { pw[i] -= step * pg[i] }
        }
    }

    public func adaGrad(weight: Tensor, grad: Tensor, accum: Tensor, count: Int, lr: Float, epsilon: Float,
                        gradScale: Float) {
        oneState(weight, grad, accum, count, gradScale) { adaGradElement($0, $1, $2, lr, epsilon) }
    }

    public func momentumSGD(weight: Tensor, grad: Tensor, momentum: Tensor, count: Int, lr: Float, factor: Float,
                            gradScale: Float) {
        oneState(weight, grad, momentum, count, gradScale) { momentumElement($0, $1, $2, lr, factor) }
    }

    public func nesterov(weight: Tensor, grad: Tensor, accum: Tensor, count: Int, lr: Float, mu: Float, gradScale: Float) {
        oneState(weight, grad, accum, count, gradScale) { nesterovElement($0, $1, $2, lr, mu) }
    }

    /// `element(w + i, state + i, grad[i]·gradScale)` for every i, in parallel.
    private func oneState(_ weight: Tensor, _ grad: Tensor, _ state: Tensor, _ count: Int, _ gradScale: Float,
                          _ element: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Float) -> Void) {
        let pw = weight.hostPointer(as: Float.self), pg = grad.hostPointer(as: Float.self)
        let ps = state.hostPointer(as: Float.self)
        parallelFor(count, threads: threads) { range in
            for i in range { element(pw + i, ps + i, pg[i] * gradScale) }
        }
    }

    public func ftrl(weight: Tensor, grad: Tensor, n: Tensor, z: Tensor, count: Int, lr: Float, beta: Float,
                     lambda1: Float, lambda2: Float, gradScale: Float) {
        guard lr != 0 else { return }
        let pw = weight.hostPointer(as: Float.self), pg = grad.hostPointer(as: Float.self)
        let pn = n.hostPointer(as: Float.self), pz = z.hostPointer(as: Float.self)
        let l2 = lambda2 + beta / lr
        parallelFor(count, threads: threads) { range in
            for i in range { ftrlElement(pw + i, pn + i, pz + i, pg[i] * gradScale, lr, lambda1, l2) }
        }
    }
}

/// Ftrl's `e` inside its square roots (FLT_EPSILON).
let ftrlEpsilon = Float.ulpOfOne

/// One Ftrl step of one element (lr ≠ 0), `l2` being `λ2 + β/lr`.
@inline(__always)
func ftrlElement(_ w: UnsafeMutablePointer<Float>, _ n: UnsafeMutablePointer<Float>, _ z: UnsafeMutablePointer<Float>,
                 _ g: Float, _ lr: Float, _ lambda1: Float, _ l2: Float) {
    let ni = n.pointee + g * g
    let zi = z.pointee + g + ((n.pointee + ftrlEpsilon).squareRoot() - (ni + ftrlEpsilon).squareRoot()) * w.pointee / lr
    let x = lambda1 * (zi.sign == .minus ? -1 : 1) - zi
    let y = (ni + ftrlEpsilon).squareRoot() / lr + l2
    n.pointee = ni
    z.pointee = zi
    w.pointee = abs(zi) > lambda1 ? x / y : 0
}

/// One Adam step of one element with the bias-corrected step size `alpha`.
@inline(__always)
func adamElement(_ w: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ v: UnsafeMutablePointer<Float>,
                 _ g: Float, _ alpha: Float, _ beta1: Float, _ beta2: Float, _ epsilon: Float) {
    let mi = beta1 * m.pointee + (1 - beta1) * g
    let vi = beta2 * v.pointee + (1 - beta2) * g * g
    m.pointee = mi
    v.pointee = vi
    w.pointee -= alpha * mi / (vi.squareRoot() + epsilon)
}

/// One AdaGrad step of one element: `a += g²; w −= lr·g/(ε + √a)`.
@inline(__always)
func adaGradElement(_ w: UnsafeMutablePointer<Float>, _ a: UnsafeMutablePointer<Float>, _ g: Float, _ lr: Float,
                    _ epsilon: Float) {
    let ai = a.pointee + g * g
    a.pointee = ai
    w.pointee -= lr * g / (epsilon + ai.squareRoot())
}

/// One MomentumSGD step of one element: `m = f·m − lr·g; w += m`.
@inline(__always)
func momentumElement(_ w: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ g: Float, _ lr: Float,
                     _ factor: Float) {
    let mi = factor * m.pointee - lr * g
    m.pointee = mi
    w.pointee += mi
}

/// One Nesterov step of one element: `m′ = μ·m − lr·g; w += −μ·m + (1+μ)·m′; m = m′`.
@inline(__always)
func nesterovElement(_ w: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ g: Float, _ lr: Float,
                     _ mu: Float) {
    let old = m.pointee, new = mu * old - lr * g
    m.pointee = new
    w.pointee += -mu * old + (1 + mu) * new
}

/// One element of HugeCTR's Global Nesterov (both passes): `m = μ·m; w += μ·m`, then
/// `m −= lr·g; w −= (1+μ)·lr·g` (a no-op for an untouched row's g = 0).
@inline(__always)
func nesterovGlobalElement(_ w: UnsafeMutablePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ g: Float, _ lr: Float,
                           _ mu: Float) {
    let decayed = m.pointee * mu, step = lr * g
    let coasted = w.pointee + decayed * mu
    m.pointee = decayed - step
    w.pointee = coasted - (1 + mu) * step
}
