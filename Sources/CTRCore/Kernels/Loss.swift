/// Loss functions with their gradient, reduced on the backend.
public protocol LossKernels: AnyObject, Sendable {
    /// Mean sigmoid cross-entropy over the first `count` rows into `loss[0]`; writes
    /// `grad[i] = (σ(x_i) − y_i)·gradScale` (0 for rows ≥ count up to `rows`). Nothing waits for
    /// the device: read `loss` when the value is needed.
    func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float, loss: Tensor)
}
