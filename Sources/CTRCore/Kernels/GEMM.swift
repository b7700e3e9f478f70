/// Dense math: matrix products and the row/column updates around them.
public protocol GEMMKernels: AnyObject, Sendable {
    /// GEMM operand rows whose width is a multiple of this run at full speed; layers pad to it.
    var gemmAlignment: Int { get }
    /// `C = alpha·op(A)·op(B) + beta·C` with `op(A)` m×k and `op(B)` k×n, all row-major.
    /// Cost: 2·m·n·k FLOPs.
    func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
              alpha: Float, a: Tensor, b: Tensor, beta: Float, c: Tensor)
    /// `y[r, c] += bias[c]` over a rows×cols matrix.
    func addBias(_ y: Tensor, bias: Tensor, rows: Int, cols: Int)
    /// `y += alpha·x` over `count` elements.
    func axpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, count: Int)
}

extension GEMMKernels {
    public var gemmAlignment: Int { 1 }
}
