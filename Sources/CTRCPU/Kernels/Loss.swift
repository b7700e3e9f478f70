import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loss functions with their gradient, and the weight penalty.
extension CPUBackend {
    public func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float,
                                   loss: Tensor) {
        let px = logits.hostPointer(as: Float.self), py = labels.hostPointer(as: Float.self)
        let pg = grad.hostPointer(as: Float.self)
        var total = 0.0
        for i in 0..<count {
            total += sigmoidCrossEntropy(px[i], py[i])
            pg[i] = (stableSigmoid(px[i]) - py[i]) * gradScale
        }
        if rows > count { (pg + count).update(repeating: 0, count: rows - count) }
        loss.hostPointer(as: Float.self)[0] = count > 0 ? Float(total / Double(count)) : 0
    }

    public func softmaxCrossEntropy(logits: Tensor, labels: Tensor, labelWidth: Int, classes: Int, grad: Tensor, count: Int,
                                    rows: Int, gradScale: Float, loss: Tensor) {
        let px = logits.hostPointer(as: Float.self), py = labels.hostPointer(as: Float.self)
        let pg = grad.hostPointer(as: Float.self)
        var total = 0.0
        for r in 0..<count {
            let x = px + r * classes, y = py + r * labelWidth, g = pg + r * classes
            var m = x[0]
            for k in 1..<classes { m = max(m, x[k]) }
            var s: Float = 0
            for k in 0..<classes { s += expf(x[k] - m) }
            let lse = Double(m) + Double(logf(s))
            if labelWidth == 1 {
                let c = softmaxClass(y[0], classes: classes)
                total += lse - Double(x[c])
                for k in 0..<classes { g[k] = (expf(x[k] - m) / s - (k == c ? 1 : 0)) * gradScale }
            } else {
                var mass: Float = 0
                for k in 0..<classes {
                    mass += y[k]
                    total += Double(y[k]) * (lse - Double(x[k]))
                }
                for k in 0..<classes { g[k] = (expf(x[k] - m) / s * mass - y[k]) * gradScale }
            }
        }
        if rows > count { (pg + count * classes).update(repeating: 0, count: (rows - count) * classes) }
        loss.hostPointer(as: Float.self)[0] = count > 0 ? Float(total / Double(count)) : 0
    }

    public func multiCrossEntropy(logits: Tensor, labels: Tensor, weights: Tensor, width: Int, grad: Tensor, count: Int,
                                  rows: Int, gradScale: Float, loss: Tensor) {
        let px = logits.hostPointer(as: Float.self), py = labels.hostPointer(as: Float.self)
        let pw = weights.hostPointer(as: Float.self), pg = grad.hostPointer(as: Float.self)
        var total = 0.0
        for i in 0..<count * width {
            let w = pw[i % width], y = py[i]
            guard y >= -0.5 else {
                pg[i] = 0
                continue
            }
            total += Double(w) * sigmoidCrossEntropy(px[i], y)
            pg[i] = w * (stableSigmoid(px[i]) - y) * gradScale
        }
        if rows > count { (pg + count * width).update(repeating: 0, count: (rows - count) * width) }
        loss.hostPointer(as: Float.self)[0] = count > 0 ? Float(total / Double(count * width)) : 0
    }

    public func addPenalty(_ penalty: WeightPenalty, weights: [Tensor], grads: [Tensor]?, termScale: Float, gradScale: Float,
                           loss: Tensor) {
        var total = 0.0
        for (k, tensor) in weights.enumerated() {
            let pw = tensor.hostPointer(as: Float.self), pg = grads?[k].hostPointer(as: Float.self)
            for i in 0..<tensor.count {
                let w = pw[i]
                switch penalty {
                case .l1:
                    total += Double(abs(w))
                    pg?[i] += gradScale * (w > 0 ? 1 : w < 0 ? -1 : 0)
                case .l2:
                    total += 0.5 * Double(w) * Double(w)
                    pg?[i] += gradScale * w
                }
            }
        }
        loss.hostPointer(as: Float.self)[0] += Float(total * Double(termScale))
    }
}

/// `−y·log σ(x) − (1 − y)·log(1 − σ(x))` in double, without overflow.
@inline(__always)
func sigmoidCrossEntropy(_ logit: Float, _ label: Float) -> Double {
    let x = Double(logit), y = Double(label)
    return x >= 0 ? x * (1 - y) + log1p(exp(-x)) : -x * y + log1p(exp(x))
}

/// The class a one-column label names: the nearest of `0..<classes` (HugeCTR's 2-class rule
/// `y < 0.5 ? 0 : 1`); NaN names class 0.
@inline(__always)
func softmaxClass(_ label: Float, classes: Int) -> Int {
    label.isNaN ? 0 : Int(min(max((label + 0.5).rounded(.down), 0), Float(classes - 1)))
}
