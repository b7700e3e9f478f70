/// Row-wise normalizations over `rows` rows of `width` contiguous elements: softmax, and rows
/// shifted to mean 0 and scaled to variance 1; and Dice, which normalizes the columns. Softmax,
/// LayerNorm (this plus a per-column scale and shift), masked softmax and attention are built on
/// them; BatchNorm normalizes columns, that is the rows of the transposed batch. Each `into` tensor
/// may be the input itself (in place).
public protocol NormalizationKernels: AnyObject, Sendable {
    /// `y[r, k] = exp(x[r, k] − m_r) / Σ_j exp(x[r, j] − m_r)` with `m_r = max_j x[r, j]`, so that
    /// no exponent overflows (HugeCTR's Softmax omits `m_r`, see `hugectr-layer-math.md` §6.27).
    /// Cost: 3 passes over x, rows·width exponentials; 8·rows·width bytes moved.
    func softmaxRows(_ x: Tensor, rows: Int, width: Int, into y: Tensor)
    /// Softmax's backward from its output `y`: `dx[r, :] = y[r, :] ⊙ (dy[r, :] − ⟨dy[r, :], y[r, :]⟩)`.
    /// Cost: 4·rows·width FLOPs; 12·rows·width bytes moved.
    func softmaxRowsBackward(y: Tensor, dy: Tensor, rows: Int, width: Int, into dx: Tensor)
    /// `y[r, :] = (x[r, :] − μ_r)·s_r` with the row mean `μ_r`, the biased row variance
    /// `σ²_r = mean_k (x[r, k] − μ_r)²` and `s_r = 1/√(σ²_r + epsilon)`; saves `mean[r] = μ_r` and
    /// `inverseStd[r] = s_r` for the backward pass. Cost: 5·rows·width FLOPs in 3 passes over x;
    /// 8·rows·width bytes moved.
    func normalizeRows(_ x: Tensor, rows: Int, width: Int, epsilon: Float, into y: Tensor, mean: Tensor,
                       inverseStd: Tensor)
    /// Its backward with `x̂ = (x − μ)·s` from the saved statistics:
    /// `dx[r, :] = s_r·(dy[r, :] − mean_k dy[r, k] − x̂[r, :]·mean_k(dy[r, k]·x̂[r, k]))`.
    /// Cost: 10·rows·width FLOPs; 12·rows·width bytes moved.
    func normalizeRowsBackward(x: Tensor, dy: Tensor, mean: Tensor, inverseStd: Tensor, rows: Int, width: Int,
                               into dx: Tensor)
    /// Dice (PReLU_Dice) on the columns of a rows×width matrix, with statistics over its rows (the
    /// batch): the column mean `μ_c`, the biased variance `σ²_c = mean_r (x[r, c] − μ_c)²` (two
    /// passes), `s_c = 1/√(σ²_c + epsilon)` (0 when `σ²_c + epsilon ≤ 0`), `n = (x − μ_c)·s_c`,
    /// `p = 1/(1 + e^−n)` and `y = x·(alpha + (1 − alpha)·p)`. Saves `mean[c] = μ_c` and
    /// `inverseStd[c] = s_c`. Cost: 3 passes over x, rows·width exponentials; 12·rows·width bytes moved.
    func dice(_ x: Tensor, rows: Int, width: Int, alpha: Float, epsilon: Float, into y: Tensor, mean: Tensor,
              inverseStd: Tensor)
    /// Its backward through the batch statistics, with `u = dy·(1 − alpha)·x·p·(1 − p)` (dL/dn):
    /// `dx = dy·(alpha + (1 − alpha)·p) + s_c·(u − mean_r u − n·mean_r(u·n))`. Cost: 2 passes over
    /// x and dy, 2·rows·width exponentials; 16·rows·width bytes moved.
    func diceBackward(x: Tensor, dy: Tensor, mean: Tensor, inverseStd: Tensor, rows: Int, width: Int, alpha: Float,
                      into dx: Tensor)
}
