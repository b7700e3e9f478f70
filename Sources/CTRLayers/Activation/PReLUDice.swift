import CTRCore

/// `PReLU_Dice` (DIN's Dice activation) with the statistics of the current batch, per feature:
/// over the B rows of the input, `μ = mean_b x`, `σ² = mean_b (x − μ)²`,
/// `p = σ((x − μ)/√(σ² + ε))` and `y = p·x + (1 − p)·α·x`. Backward is the gradient of that
/// forward, through μ and σ² as well: with `n = (x − μ)/√(σ² + ε)` and
/// `u = dy·(1 − α)·x·p·(1 − p)`, `dx = dy·(α + (1 − α)·p) + (u − mean_b u − n·mean_b(u·n))/√(σ² + ε)`.
/// α and ε are settings, not trained. Training and evaluation both use the batch's statistics.
/// Cost: 3 passes over the input forward, 2 backward.
///
/// ```swift
/// model.add(DenseLayer(.preluDice, bottomNames: ["fc_din_i1"], topNames: ["dice_1"], eps: 1e-8, eluAlpha: 0.2))
/// ```
///
/// HugeCTR: `PReLU_Dice` (`elu_alpha` = α, default 1; `eps` = ε, default 1e-5). Rows are the
/// input's leading dimension and features the rest, as in HugeCTR. HugeCTR's backward keeps only
/// each element's own share of μ and σ² (it drops the terms through the other samples) and
/// computes σ² in one pass; SwiftCTR's is the exact gradient (see `docs/compatibility.md`).
public final class PReLUDice: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let alpha: Float, epsilon: Float
    /// Per feature: the batch mean and `1/√(σ² + ε)` of the last forward.
    let mean: Tensor, inverseStd: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, alpha: Float, epsilon: Float, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.alpha = alpha
        self.epsilon = epsilon
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        let features = input.shape.count / input.shape[0]
        mean = backend.makeTensor([features], .float32)
        inverseStd = backend.makeTensor([features], .float32)
    }

    /// Features: the elements of one leading row.
    private var width: Int { inputs[0].shape.count / inputs[0].shape[0] }

    public func forward(_ context: StepContext) {
        backend.dice(inputs[0].value, rows: inputs[0].rows(context.batch), width: width, alpha: alpha, epsilon: epsilon,
                     into: outputs[0].value, mean: mean, inverseStd: inverseStd)
    }

    public func backward(_ context: StepContext) {
        backend.diceBackward(x: inputs[0].value, dy: outputs[0].grad, mean: mean, inverseStd: inverseStd,
                             rows: inputs[0].rows(context.batch), width: width, alpha: alpha, into: inputs[0].grad)
    }

    // MARK: registry

    public static let layerType = LayerType.preluDice
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames = ["elu_alpha", "eps"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        guard inputs[0].shape.rank >= 2 else {
            throw check.error("PReLU_Dice needs features per sample; '\(inputs[0].name)' has shape \(inputs[0].shape). Reshape it to (B, N).")
        }
        guard config.eluAlpha.isFinite else {
            throw check.error("elu_alpha (Dice's α) must be a finite number, found \(config.eluAlpha).")
        }
        guard config.eps.isFinite, config.eps >= 0 else {
            throw check.error("eps must be a finite number ≥ 0 (added to the batch variance), found \(config.eps). HugeCTR's default is 1e-5.")
        }
        return PReLUDice(name: config.name, input: inputs[0], alpha: config.eluAlpha, epsilon: config.eps,
                         backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func dice(_ shape: [Int], rowsPerSample: Int = 1, alpha: Float, eps: Float, batch: Int = 5,
                  training: Bool = true) -> ConformanceCase {
            let a = Double(alpha), e = Double(eps), width = shape.reduce(1, *)
            return ConformanceCase("PReLU_Dice \(rowsPerSample > 1 ? "\(rowsPerSample) rows of " : "")\(shape) alpha \(alpha) eps \(eps)\(training ? "" : ", evaluation")",
                                   DenseLayer(.preluDice, bottomNames: ["x"], topNames: ["dice"], eps: eps, eluAlpha: alpha),
                                   inputs: [ConformanceInput(shape, rowsPerSample: rowsPerSample)], batch: batch,
                                   training: training) { r in
                let x = r.inputs[0], rows = x.count / width
                var y = x
                for c in 0..<width {
                    let column = (0..<rows).map { x[$0 * width + c] }
                    let mu = column.reduce(0, +) / Double(rows)
                    let variance = column.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(rows)
                    for (row, v) in column.enumerated() {
                        let p = ConformanceReference.sigmoid((v - mu) / (variance + e).squareRoot())
                        y[row * width + c] = p * v + (1 - p) * a * v
                    }
                }
                return [y]
            }
        }
        return [dice([6], alpha: 0.2, eps: 1e-8), dice([2, 3], alpha: 0.5, eps: 1e-5, batch: 4),
                dice([4], rowsPerSample: 2, alpha: -0.3, eps: 0.1, batch: 3),
                dice([5], alpha: 1, eps: 1e-5, batch: 1), dice([3], alpha: 0.2, eps: 1e-5, training: false)]
    }
}
