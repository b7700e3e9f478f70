/// Dense math: matrix products and the row/column updates around them.
public protocol GEMMKernels: AnyObject, Sendable {
    /// GEMM operand rows whose width is a multiple of this run at full speed; layers pad to it.
    var gemmAlignment: Int { get }
    /// `C = alpha·op(A)·op(B) + beta·C` with `op(A)` m×k and `op(B)` k×n, all row-major.
    /// Cost: 2·m·n·k FLOPs.
    func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
              alpha: Float, a: Tensor, b: Tensor, beta: Float, c: Tensor)
    /// `batchCount` independent GEMMs `C_i = alpha·op(A_i)·op(B_i) + beta·C_i` (the shapes of
    /// `gemm`), matrix i of X starting at element `i·strideX`. A stride of 0 broadcasts one A or B
    /// to every product; C's matrices must not overlap. fp32 operands only (a mixed-precision
    /// backend still computes these in fp32, or TF32 where `gemm` does). MatrixMultiply on 3D/4D
    /// inputs, and attention's `Q·Kᵀ` and `P·V` per (sample, head) once the heads are split, are
    /// one call each.
    /// Cost: 2·m·n·k·batchCount FLOPs.
    func batchedGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     a: Tensor, strideA: Int, b: Tensor, strideB: Int, beta: Float, c: Tensor, strideC: Int,
                     batchCount: Int)
    /// The backward of one input of an InnerProduct with one output, in one pass over `x`
    /// (rows×width): `dw[c] += Σ_r x[r, c]·dy[r]` and `dx[r, c] = dy[r]·w[c]` (when `dx` is given).
    /// `partial` (fp32, a multiple of `width` elements) is scratch for per-block column sums.
    /// Cost: 4·rows·width FLOPs, x read and dx written once.
    func oneOutputBackward(x: Tensor, rows: Int, width: Int, dy: Tensor, w: Tensor, dw: Tensor, dx: Tensor?,
                           partial: Tensor)
    /// `y[r, c] += bias[c]` over a rows×cols matrix.
    func addBias(_ y: Tensor, bias: Tensor, rows: Int, cols: Int)
    /// `y += alpha·x` over `count` elements.
    func axpy(_ alpha: Float, _ x: Tensor, _ y: Tensor, count: Int)
}

extension GEMMKernels {
    public var gemmAlignment: Int { 1 }
}
