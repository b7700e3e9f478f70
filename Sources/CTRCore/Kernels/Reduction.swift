/// Reductions along an axis and their broadcasts back.
public protocol ReductionKernels: AnyObject, Sendable {
    /// `out[c] (+)= Σ_r x[r, c]`.
    func sumRows(_ x: Tensor, rows: Int, cols: Int, into out: Tensor, accumulate: Bool)
    /// `y[o, 0, i] = Σ_a x[o, a, i]` for an outer×axis×inner tensor.
    func reduceSum(_ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor)
    /// `dx[o, a, i] = dy[o, 0, i]`.
    func reduceSumBackward(_ dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor)
}
