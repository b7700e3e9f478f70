/// Loss functions with their gradient, reduced on the backend, and the L1/L2 weight penalty.
/// Nothing waits for the device: read `loss` when the value is needed.
public protocol LossKernels: AnyObject, Sendable {
    /// Mean sigmoid cross-entropy over the first `count` rows into `loss[0]`; writes
    /// `grad[i] = (σ(x_i) − y_i)·gradScale` (0 for rows ≥ count up to `rows`).
    func binaryCrossEntropy(logits: Tensor, labels: Tensor, grad: Tensor, count: Int, rows: Int, gradScale: Float, loss: Tensor)
    /// Softmax cross-entropy over rows of `classes` logits: with `a = softmax(x)` (max subtracted)
    /// and `lse = log Σ_k e^{x_k}`, a label row of `classes` weights `y` (one-hot or soft) gives
    /// `ℓ = Σ_k y_k·(lse − x_k)` and `grad_k = (a_k·Σ_j y_j − y_k)·gradScale`; a label row of one
    /// class index (`labelWidth` 1, rounded to the nearest class in `0..<classes`) gives
    /// `ℓ = lse − x_c` and `grad_k = (a_k − [k = c])·gradScale`. `loss[0] = Σ_rows ℓ / count`;
    /// gradient rows ≥ count up to `rows` are 0. Cost: 2 passes over the row, `classes`
    /// exponentials and one log per row.
    func softmaxCrossEntropy(logits: Tensor, labels: Tensor, labelWidth: Int, classes: Int, grad: Tensor, count: Int,
                             rows: Int, gradScale: Float, loss: Tensor)
    /// Weighted sigmoid cross-entropy over rows of `width` labels: element (r, j) with `y ≥ −0.5`
    /// adds `w_j·BCE(x, y)` to the loss and has `grad = w_j·(σ(x) − y)·gradScale`; `y < −0.5`
    /// marks an ignored element (loss and gradient 0). `loss[0] = Σ / (count·width)`, ignored
    /// elements counted in the divisor; gradient rows ≥ count up to `rows` are 0. Cost: one pass,
    /// 12 bytes read and 4 written per element.
    func multiCrossEntropy(logits: Tensor, labels: Tensor, weights: Tensor, width: Int, grad: Tensor, count: Int,
                           rows: Int, gradScale: Float, loss: Tensor)
    /// Adds `termScale·Σ r(w)` over every element of `weights` to `loss[0]`, with `r(w) = |w|`
    /// (L1) or `w²/2` (L2), and, when `grads` is given (one per weight tensor), adds
    /// `gradScale·r′(w)` to each gradient element (`r′ = sign w`, 0 at 0, or `w`). Cost: one pass
    /// over the weights, 4 bytes read (12 with gradients) per element.
    func addPenalty(_ penalty: WeightPenalty, weights: [Tensor], grads: [Tensor]?, termScale: Float, gradScale: Float,
                    loss: Tensor)
}

/// The weight penalty of a regularizer: `|w|` (L1) or `w²/2` (L2).
public enum WeightPenalty: Sendable, Equatable {
    case l1
    case l2
}
