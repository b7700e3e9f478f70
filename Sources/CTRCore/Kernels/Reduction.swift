/// Reductions along an axis and their broadcasts back.
public protocol ReductionKernels: AnyObject, Sendable {
    /// `out[c] (+)= Σ_r x[r, c]`.
    func sumRows(_ x: Tensor, rows: Int, cols: Int, into out: Tensor, accumulate: Bool)
    /// `y[o, 0, i] = Σ_a x[o, a, i]` (`.sum`), divided by `axis` for `.mean`, for an
    /// outer×axis×inner tensor; the sum runs in order of `a`. Cost: outer·axis·inner adds,
    /// 4 bytes read per element.
    func reduce(_ op: ReduceOp, _ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor)
    /// Its backward, `dx[o, a, i] = dy[o, 0, i]` (`.sum`) or `dy[o, 0, i] / axis` (`.mean`).
    /// Cost: 4 bytes written per element of `dx`.
    func reduceBackward(_ op: ReduceOp, dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor)
}

extension ReductionKernels {
    /// `y[o, 0, i] = Σ_a x[o, a, i]` for an outer×axis×inner tensor.
    public func reduceSum(_ x: Tensor, outer: Int, axis: Int, inner: Int, into y: Tensor) {
        reduce(.sum, x, outer: outer, axis: axis, inner: inner, into: y)
    }

    /// `dx[o, a, i] = dy[o, 0, i]`.
    public func reduceSumBackward(_ dy: Tensor, outer: Int, axis: Int, inner: Int, into dx: Tensor) {
        reduceBackward(.sum, dy: dy, outer: outer, axis: axis, inner: inner, into: dx)
    }
}

/// How `reduce` combines the elements along the axis.
public enum ReduceOp: Sendable, Equatable {
    /// `Σ_a x` (HugeCTR ReduceSum).
    case sum
    /// `(Σ_a x) / axis` (HugeCTR ReduceMean).
    case mean
}

/// The rows of the `partial` scratch that the backward passes summing columns on the way
/// (`lowRankCrossBackward`, `reluDropoutBackward` with a bias gradient, `oneOutputBackward`) take:
/// the most row blocks a backend splits the batch into for those per-block sums.
public let columnSumPartialRows = 512
