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
