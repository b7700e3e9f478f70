import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loss functions with their gradient.
extension CPUBackend {
    public func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float,
                                   loss: Tensor) {
        let px = logits.hostPointer(as: Float.self), py = labels.hostPointer(as: Float.self)
        let pg = grad.hostPointer(as: Float.self)
        var total = 0.0
        for i in 0..<count {
            let x = Double(px[i]), y = Double(py[i])
            total += x >= 0 ? x * (1 - y) + log1p(exp(-x)) : -x * y + log1p(exp(x))
            pg[i] = (stableSigmoid(px[i]) - py[i]) * gradScale
        }
        if rows > count { (pg + count).update(repeating: 0, count: rows - count) }
        loss.hostPointer(as: Float.self)[0] = count > 0 ? Float(total / Double(count)) : 0
    }
}
