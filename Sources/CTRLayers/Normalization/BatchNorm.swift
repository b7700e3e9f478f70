import CTRCore

/// `BatchNorm`: normalizes every feature (column) of a 2D `(B, F)` input, then scales and shifts
/// it: `y = x̂·γ + β` with γ, β of shape (1, F).
///
/// Training uses the batch's statistics over its n rows, `μ = mean_b x`, `σ² = mean_b (x − μ)²`,
/// `x̂ = (x − μ)/√(σ² + eps)`, and updates the running statistics with `f = factor`:
/// `mean ← (1 − f)·mean + f·μ`, `var ← (1 − f)·var + f·σ²·n/(n − 1)` (the unbiased variance, as
/// cuDNN; σ² itself when n = 1). Evaluation uses them instead: `x̂ = (x − mean)/√(var + eps)`.
/// Backward (training), with `g = dy·γ` and `s = 1/√(σ² + eps)`:
/// `dx = s·(g − mean_b g − x̂·mean_b(g·x̂))`, `dγ += Σ_b dy·x̂`, `dβ += Σ_b dy`.
/// Cost: composed from reductions and element-wise ops, about 7 passes over the input forward and
/// 9 backward (3 in evaluation).
///
/// ```swift
/// model.add(DenseLayer(.batchNorm, bottomNames: ["fc1"], topNames: ["bn1"], factor: 0.1, eps: 1e-5))
/// ```
///
/// HugeCTR: `BatchNorm` (layer math §6.8, cuDNN per-activation mode). γ starts at 1 and β at 0
/// (Zero: 0); the running mean starts at 0 and the running variance at 1. The running statistics
/// are `nonTrainable` ("mean", "var": HugeCTR's non-trainable parameters JSON). Unlike HugeCTR
/// (cuDNN), dγ and dβ accumulate like every other weight gradient, so a regularizer's term survives.
public final class BatchNorm: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public var parameters: [Variable] { affine.parameters }
    public var nonTrainable: [(key: String, value: Tensor)] { [("mean", runningMean), ("var", runningVariance)] }
    public let factor: Float, epsilon: Float
    let affine: ScaleShift
    /// The running statistics (F each).
    let runningMean: Tensor, runningVariance: Tensor
    /// The step's per-feature mean, variance (then mean g·x̂ in backward), 1/√(σ² + eps) and
    /// (backward) mean g; one element holding eps.
    let mean: Tensor, variance: Tensor, inverseStd: Tensor, meanGradient: Tensor, epsilonValue: Tensor
    /// x̂ (kept for backward) and a scratch of the input's size.
    let normalized: Tensor, scratch: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, factor: Float, epsilon: Float, gammaInit: Initializer,
                betaInit: Initializer, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.factor = factor
        self.epsilon = epsilon
        inputs = [input]
        let features = input.shape[1]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        affine = ScaleShift(name: name, width: features, gammaInit: gammaInit, betaInit: betaInit, backend: backend)
        func vector() -> Tensor { backend.makeTensor([features], .float32) }
        runningMean = vector()
        runningVariance = vector()
        backend.fill(runningVariance, 1)
        (mean, variance, inverseStd, meanGradient) = (vector(), vector(), vector(), vector())
        epsilonValue = backend.tensor([epsilon], [1])
        normalized = backend.makeTensor(input.shape, .float32)
        scratch = backend.makeTensor(input.shape, .float32)
    }

    private var features: Int { affine.width }

    public func forward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), n = rows * features, x = inputs[0].value
        if context.training {
            backend.reduce(.mean, x, outer: 1, axis: rows, inner: features, into: mean)
            backend.binary(.subtract, x, mean, into: normalized, count: n, broadcast: .row(features))
            backend.unary(.square, normalized, into: scratch, count: n)
            backend.reduce(.mean, scratch, outer: 1, axis: rows, inner: features, into: variance)
            updateRunningStatistics(rows: rows)
            inverseStandardDeviation(of: variance)
        } else {
            backend.binary(.subtract, x, runningMean, into: normalized, count: n, broadcast: .row(features))
            inverseStandardDeviation(of: runningVariance)
        }
        backend.binary(.multiply, normalized, inverseStd, into: normalized, count: n, broadcast: .row(features))
        affine.forward(normalized, rows: rows, into: outputs[0].value, backend: backend)
    }

    /// `inverseStd = 1/√(v + eps)`.
    private func inverseStandardDeviation(of v: Tensor) {
        backend.binary(.add, v, epsilonValue, into: inverseStd, count: features, broadcast: .row(1))
        backend.unary(.sqrt, inverseStd, into: inverseStd, count: features)
        backend.unary(.reciprocal, inverseStd, into: inverseStd, count: features)
    }

    private func updateRunningStatistics(rows: Int) {
        let unbiased = rows > 1 ? Float(rows) / Float(rows - 1) : 1
        backend.unary(.scale(1 - factor), runningMean, into: runningMean, count: features)
        backend.axpy(factor, mean, runningMean, count: features)
        backend.unary(.scale(1 - factor), runningVariance, into: runningVariance, count: features)
        backend.axpy(factor * unbiased, variance, runningVariance, count: features)
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), n = rows * features, dx = inputs[0].grad
        affine.backward(normalized: normalized, dy: outputs[0].grad, rows: rows, into: dx, backend: backend)
        backend.reduce(.mean, dx, outer: 1, axis: rows, inner: features, into: meanGradient)
        backend.multiply(dx, normalized, into: scratch, count: n)
        backend.reduce(.mean, scratch, outer: 1, axis: rows, inner: features, into: variance)
        backend.binary(.multiply, normalized, variance, into: scratch, count: n, broadcast: .row(features))
        backend.binary(.subtract, dx, scratch, into: dx, count: n)
        backend.binary(.subtract, dx, meanGradient, into: dx, count: n, broadcast: .row(features))
        backend.binary(.multiply, dx, inverseStd, into: dx, count: n, broadcast: .row(features))
    }

    // MARK: registry

    public static let layerType = LayerType.batchNorm
    public static let parameterNames = ["factor", "eps", "gamma_init_type", "beta_init_type"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.rank(in: [2])
        try ScaleShift.checkEpsilon(check)
        guard config.factor >= 0 && config.factor <= 1 else {
            throw check.error("factor must be in [0, 1] (running = (1 − factor)·running + factor·batch), found \(config.factor). Use the default 1, or e.g. 0.1 for a slower average.")
        }
        return BatchNorm(name: config.name, input: inputs[0], factor: config.factor, epsilon: config.eps,
                         gammaInit: config.gammaInitType, betaInit: config.betaInitType, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Each column normalized with the batch's statistics (training) or the initial running
        /// statistics, mean 0 and variance 1 (evaluation), then `x̂·γ + β`.
        func batchNorm(_ features: Int, rowsPerSample: Int = 1, batch: Int = 4, eps: Float = 1e-5, training: Bool = true,
                       gammaInit: Initializer = .default, parameterStd: Double? = 1) -> ConformanceCase {
            let note = parameterStd == nil ? "γ \(gammaInit.rawValue)" : "random γ, β"
            return ConformanceCase("BatchNorm \(features) features\(ConformanceInput.rowsNote(rowsPerSample)), batch \(batch), eps \(eps), \(note), \(training ? "training" : "evaluation")",
                                   DenseLayer(.batchNorm, bottomNames: ["x"], topNames: ["bn"], factor: 0.3, eps: eps,
                                              gammaInitType: gammaInit, betaInitType: .uniform),
                                   inputs: [ConformanceInput([features], rowsPerSample: rowsPerSample)], batch: batch,
                                   training: training, parameterStd: parameterStd) { r in
                let x = r.inputs[0], gamma = r.parameters[0], beta = r.parameters[1], rows = x.count / features
                var y = [Double](repeating: 0, count: x.count)
                for c in 0..<features {
                    let column = (0..<rows).map { x[$0 * features + c] }
                    let (centered, inverseStd) = r.context.training
                        ? ConformanceReference.normalized(column, epsilon: Double(eps))
                        : (column, 1 / (1 + Double(eps)).squareRoot())
                    for b in 0..<rows { y[b * features + c] = centered[b] * inverseStd * gamma[c] + beta[c] }
                }
                return [y]
            }
        }
        return [
            batchNorm(5), batchNorm(3, batch: 7, eps: 1e-3), batchNorm(4, rowsPerSample: 3, batch: 2),
            batchNorm(6, parameterStd: nil), batchNorm(2, gammaInit: .zero, parameterStd: nil),
            batchNorm(4, training: false),
        ]
    }
}
