import CTRCore

/// `LayerNorm`: normalizes every row of the last dimension H of a 2D, 3D or 4D input, then scales
/// and shifts it per column: `μ = mean x`, `v = mean (x − μ)² + eps`, `x̂ = (x − μ)/√v`,
/// `y = x̂·γ + β`, with γ, β of shape (1, H). Backward, with `g = dy·γ`:
/// `dx = (g − mean g − x̂·mean(g·x̂))/√v`, `dγ += Σ_rows dy·x̂`, `dβ += Σ_rows dy`.
/// Cost: `normalizeRows` and 2 passes forward; 3 passes and `normalizeRowsBackward` backward.
///
/// ```swift
/// model.add(DenseLayer(.layerNorm, bottomNames: ["add1"], topNames: ["ln1"], eps: 1e-5))
/// ```
///
/// HugeCTR: `LayerNorm` (layer math §6.9). γ starts at 1 and β at 0 (Zero: 0). Unlike HugeCTR, every
/// column of dγ and dβ is written whatever H is (HugeCTR skips the last `H % 32` when H > 32), and
/// they accumulate like every other weight gradient, so a regularizer's term survives.
public final class LayerNorm: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public var parameters: [Variable] { affine.parameters }
    public let epsilon: Float
    let affine: ScaleShift
    /// x̂ (kept for backward), the per-row statistics, and a scratch of the input's size.
    let normalized: Tensor, mean: Tensor, inverseStd: Tensor, scratch: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, epsilon: Float, gammaInit: Initializer, betaInit: Initializer,
                backend: any Backend) {
        self.name = name
        self.backend = backend
        self.epsilon = epsilon
        inputs = [input]
        let width = input.shape.last, rows = input.value.count / width
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        affine = ScaleShift(name: name, width: width, gammaInit: gammaInit, betaInit: betaInit, backend: backend)
        normalized = backend.makeTensor(input.shape, .float32)
        scratch = backend.makeTensor(input.shape, .float32)
        mean = backend.makeTensor([rows], .float32)
        inverseStd = backend.makeTensor([rows], .float32)
    }

    private func rows(_ context: StepContext) -> Int { inputs[0].count(context.batch) / affine.width }

    public func forward(_ context: StepContext) {
        let rows = rows(context)
        backend.normalizeRows(inputs[0].value, rows: rows, width: affine.width, epsilon: epsilon, into: normalized,
                              mean: mean, inverseStd: inverseStd)
        affine.forward(normalized, rows: rows, into: outputs[0].value, backend: backend)
    }

    public func backward(_ context: StepContext) {
        let rows = rows(context)
        affine.backward(normalized: normalized, dy: outputs[0].grad, rows: rows, into: scratch, backend: backend)
        backend.normalizeRowsBackward(x: inputs[0].value, dy: scratch, mean: mean, inverseStd: inverseStd, rows: rows,
                                      width: affine.width, into: inputs[0].grad)
    }

    // MARK: registry

    public static let layerType = LayerType.layerNorm
    public static let parameterNames = ["eps", "gamma_init_type", "beta_init_type"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.rank(in: [2, 3, 4])
        try ScaleShift.checkEpsilon(check)
        return LayerNorm(name: config.name, input: inputs[0], epsilon: config.eps, gammaInit: config.gammaInitType,
                         betaInit: config.betaInitType, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Each row of the last dimension normalized, then `x̂·γ + β`.
        func layerNorm(_ shape: [Int], rowsPerSample: Int = 1, eps: Float = 1e-5, gammaInit: Initializer = .default,
                       parameterStd: Double? = 1) -> ConformanceCase {
            let width = shape.last!
            let note = parameterStd == nil ? "γ \(gammaInit.rawValue)" : "random γ, β"
            return ConformanceCase("LayerNorm \(shape)\(ConformanceInput.rowsNote(rowsPerSample)), eps \(eps), \(note)",
                                   DenseLayer(.layerNorm, bottomNames: ["x"], topNames: ["ln"], eps: eps,
                                              gammaInitType: gammaInit, betaInitType: .xavierUniform),
                                   inputs: [ConformanceInput(shape, rowsPerSample: rowsPerSample)], batch: 3,
                                   parameterStd: parameterStd) { r in
                let x = r.inputs[0], gamma = r.parameters[0], beta = r.parameters[1]
                return [(0..<x.count / width).flatMap { row in
                    let (centered, inverseStd) = ConformanceReference.normalized(x[row * width..<(row + 1) * width],
                                                                                 epsilon: Double(eps))
                    return centered.indices.map { k in centered[k] * inverseStd * gamma[k] + beta[k] }
                }]
            }
        }
        return [
            layerNorm([6]), layerNorm([3, 5]), layerNorm([2, 2, 4], eps: 1e-3), layerNorm([4], rowsPerSample: 2),
            layerNorm([5], gammaInit: .default, parameterStd: nil), layerNorm([3], gammaInit: .zero, parameterStd: nil),
        ]
    }
}
