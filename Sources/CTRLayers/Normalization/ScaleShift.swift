import CTRCore

/// The learned per-column scale γ and shift β that follow a normalization (LayerNorm, BatchNorm):
/// `y = x̂·γ + β` over rows of `width`. Backward: `dγ += Σ_rows dy·x̂`, `dβ += Σ_rows dy`, and the
/// gradient reaching `x̂`, `g = dy·γ`. Cost: 2 passes over x̂ forward, 3 backward.
///
/// ```swift
/// let affine = ScaleShift(name: "ln1", width: 64, gammaInit: .default, betaInit: .default, backend: cpu)
/// affine.forward(normalized, rows: rows, into: y, backend: cpu)
/// ```
///
/// HugeCTR (layer math §1): γ starts at 1 and β at 0 for every initializer type but Zero, which
/// starts that tensor at 0 (Uniform and the Xavier types fall back to the layer's Default).
struct ScaleShift {
    let gamma: Variable, beta: Variable
    let width: Int

    init(name: String, width: Int, gammaInit: Initializer, betaInit: Initializer, backend: any Backend) {
        self.width = width
        gamma = Variable(name: name + ".gamma", shape: [1, width], backend: backend)
        beta = Variable(name: name + ".beta", shape: [1, width], backend: backend)
        backend.fill(gamma.value, gammaInit == .zero ? 0 : 1)
        backend.fill(beta.value, 0)
    }

    /// γ, then β (HugeCTR's order in the dense weights file).
    var parameters: [Variable] { [gamma, beta] }

    func forward(_ normalized: Tensor, rows: Int, into y: Tensor, backend: any Backend) {
        let n = rows * width
        backend.binary(.multiply, normalized, gamma.value, into: y, count: n, broadcast: .row(width))
        backend.binary(.add, y, beta.value, into: y, count: n, broadcast: .row(width))
    }

    /// Accumulates dγ and dβ and writes `g = dy·γ` (which also serves as the scratch for `dy·x̂`).
    func backward(normalized: Tensor, dy: Tensor, rows: Int, into g: Tensor, backend: any Backend) {
        let n = rows * width
        backend.multiply(dy, normalized, into: g, count: n)
        backend.sumRows(g, rows: rows, cols: width, into: gamma.grad, accumulate: true)
        backend.sumRows(dy, rows: rows, cols: width, into: beta.grad, accumulate: true)
        backend.binary(.multiply, dy, gamma.value, into: g, count: n, broadcast: .row(width))
    }

    /// The check both layers make: `eps` must be a number ≥ 0.
    static func checkEpsilon(_ check: Checker) throws {
        let eps = check.config.eps
        guard eps >= 0 else {
            throw check.error("eps must be ≥ 0, found \(eps); it keeps 1/√(variance + eps) finite. Use the default 1e-5.")
        }
    }
}
