/// Element-wise maps and activations.
public protocol ElementwiseKernels: AnyObject, Sendable {
    func relu(_ x: Tensor, into y: Tensor, count: Int)
    /// `dx = x > 0 ? dy : 0`.
    func reluBackward(_ x: Tensor, _ dy: Tensor, into dx: Tensor, count: Int)
    func sigmoid(_ x: Tensor, into y: Tensor, count: Int)
    /// `dx = dy·y·(1−y)` from the forward output `y`.
    func sigmoidBackward(_ y: Tensor, _ dy: Tensor, into dx: Tensor, count: Int)
    /// Training dropout: `mask[i] ∈ {0, 1/(1−rate)}` drawn from `(seed, stream)`; `y = x·mask`.
    func dropout(_ x: Tensor, into y: Tensor, mask: Tensor, count: Int, rate: Float, seed: UInt64, stream: UInt64)
    /// Bias, ReLU and training dropout in one pass over rows of `width`:
    /// `y = max(x + bias, 0)·m` (no bias when nil) with the mask `m` that `dropout` draws for the
    /// same `(seed, stream)`; no mask is stored. Rate 0 keeps every element.
    func reluDropout(_ x: Tensor, bias: Tensor?, width: Int, into y: Tensor, count: Int, rate: Float, seed: UInt64,
                     stream: UInt64)
    /// Its backward: `dx = x + bias > 0 ? dy·m : 0`, the mask drawn again.
    func reluDropoutBackward(_ x: Tensor, bias: Tensor?, width: Int, _ dy: Tensor, into dx: Tensor, count: Int, rate: Float,
                             seed: UInt64, stream: UInt64)
    /// `out = a ⊙ b`.
    func multiply(_ a: Tensor, _ b: Tensor, into out: Tensor, count: Int)
    /// `out = Σ inputs` element-wise over `count` elements.
    func sum(_ inputs: [Tensor], into out: Tensor, count: Int)
}

/// Dropout compares a 16-bit random draw with this: the element is dropped when draw < threshold.
public func dropoutThreshold(_ rate: Float) -> UInt64 {
    UInt64((Double(rate) * 65_536).rounded())
}
