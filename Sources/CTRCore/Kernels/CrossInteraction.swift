/// The feature-crossing layers' kernels: MultiCross (DCN) and Interaction (DLRM), measured faster
/// as whole-layer kernels than composed from primitives.
public protocol CrossInteractionKernels: AnyObject, Sendable {
    /// `out[r] = ⟨a[r, :], b[r, :]⟩` for each of `rows` rows of width `width`. Cost: 2·rows·width FLOPs.
    func rowDot(_ a: Tensor, _ b: Tensor, rows: Int, width: Int, into out: Tensor)
    /// `out[r, :] = x[r, :]·scales[r·stride + offset] + bias` (no bias when nil).
    func scaleRows(_ x: Tensor, scales: Tensor, stride: Int, offset: Int, bias: Tensor?, rows: Int, width: Int,
                   into out: Tensor)
    /// `dst[r, :] += scales[r]·src[r, :]`.
    func addScaledRows(_ src: Tensor, scales: Tensor, rows: Int, width: Int, into dst: Tensor)
    /// `out[0, :] = 0; out[l+1, :] = out[l, :] + x[l, :]` over `rows` rows.
    func prefixSumRows(_ x: Tensor, rows: Int, width: Int, into out: Tensor)
    /// The scalar recursion of a DCN-v1 cross network per row (see `MultiCross`):
    /// `H[r, 0] = 1; H[r, l+1] = H[r, l]·(1 + d[r, l]) + c[l]` for l < layers; H is rows×(layers+1).
    func crossScalars(d: Tensor, c: Tensor, rows: Int, layers: Int, into h: Tensor)
    /// Its backward from `s[r] = dL/dH[r, layers]`: for l = layers−1 … 0, with `a = dL/dH[r, l+1]`:
    /// `e[r, l] = a·H[r, l]` (dL/dd), `upstream[r, l] = a` (dL/dc), then `a ← a·(1 + d[r, l])`.
    func crossScalarsBackward(d: Tensor, h: Tensor, s: Tensor, rows: Int, layers: Int, e: Tensor, upstream: Tensor)
    /// `db[j, k] = g[k] + Σ_{l>j} c[l]·w[l, k]` for j < layers (the cross biases' gradients).
    func crossBiasGradients(g: Tensor, c: Tensor, weights: Tensor, layers: Int, width: Int, into db: Tensor)
    /// MultiCross's input gradient: `dx[r, :] = g[r, :]·h[r·(layers+1) + layers] + Σ_l e[r, l]·w[l, :]`
    /// (`scaleRows` and a GEMM, in one pass on a GPU).
    func crossInputGradient(g: Tensor, h: Tensor, e: Tensor, weights: Tensor, rows: Int, layers: Int, width: Int,
                            into dx: Tensor)
    /// One DCN-v2 cross layer's combination step: `out[r, c] = x0[r, c]·(h[r, c] + bias[c]) + x[r, c]`
    /// for c < `outWidth`, where x0, h and x are rows × `width` and out is rows × `outWidth`
    /// (`outWidth` ≤ `width`: the last layer drops the padding columns). Tensors may be stored in
    /// fp32 or, on a backend with 16-bit storage, bf16/fp16; bias is fp32. Cost: 3 FLOPs per element.
    func lowRankCross(x0: Tensor, h: Tensor, bias: Tensor, x: Tensor, rows: Int, width: Int, into out: Tensor,
                      outWidth: Int)
    /// Its backward from `g = dL/dout` (rows × `gWidth`, `gWidth` ≤ `width`, zero beyond): `s0 = g ⊙ x0`
    /// (dL/dh, rows × width); `dx = (accumulate ? dx : 0) + g ⊙ (h + bias) + (addG ? g : 0)`
    /// (rows × width); when `gCopy` is given, `gCopy = g` at rows × width with a zero tail (in
    /// gCopy's type), so that the next GEMM can add into it; and `biasGrad += Σ_rows s0` (1 × width).
    /// `partial` is fp32 scratch of `columnSumPartialRows` × width for the bias gradient's
    /// per-block sums. g, gCopy, x0, h, s0 and dx may be 16-bit on a backend with 16-bit storage.
    /// Cost: about 6 FLOPs per element.
    func lowRankCrossBackward(g: Tensor, gWidth: Int, x0: Tensor, h: Tensor, bias: Tensor, rows: Int, width: Int,
                              s0: Tensor, dx: Tensor, accumulate: Bool, addG: Bool, gCopy: Tensor?, biasGrad: Tensor,
                              partial: Tensor)
    /// Throws when this backend cannot run Interaction on `features` embedding vectors of `width`
    /// (a GPU kernel that holds a sample's vectors in shared memory); models check at compile.
    func validateInteraction(features: Int, width: Int) throws
    /// DLRM dot interaction: `x0` batch×w, `emb` batch×F×w, `y` batch×(w + n(n−1)/2 + 1), n = F+1.
    func interaction(x0: Tensor, emb: Tensor, into y: Tensor, batch: Int, features: Int, width: Int)
    func interactionBackward(x0: Tensor, emb: Tensor, dy: Tensor, dx0: Tensor, demb: Tensor,
                             batch: Int, features: Int, width: Int)
}

extension CrossInteractionKernels {
    public func validateInteraction(features: Int, width: Int) throws {}
}

