import CTRCore

/// `Reshape`: the same elements under another shape. A view: forward and backward move no data.
///
/// With `leading_dim` = L (and optionally `time_step` = T) each sample's n elements become n/L
/// rows of L (or n/(L·T) blocks of T×L): the output is `(B·n/L, L)` or `(B·n/(L·T), T, L)`, and one
/// sample fills several leading rows (`rowsPerSample`), so the next layer works on rows. With
/// `shape = [-1, d1, …]` the output is `(B, d1, …)`.
///
/// ```swift
/// model.add(DenseLayer(.reshape, bottomNames: ["sparse_embedding1"], topNames: ["reshape1"], leadingDim: 416))
/// ```
///
/// HugeCTR: `Reshape`. `selected = true` (picking slots) is not available yet.
public final class Reshape: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]

    /// `shape` is the full output shape for the largest batch; `rowsPerSample` how many of its
    /// leading rows one sample fills.
    package init(name: String, input: Variable, shape: Shape, rowsPerSample: Int) {
        self.name = name
        inputs = [input]
        outputs = [Variable(name: name, value: input.value.reshaped(shape), grad: input.grad.reshaped(shape),
                            rowsPerSample: rowsPerSample)]
    }

    public func forward(_ context: StepContext) {}
    public func backward(_ context: StepContext) {}

    // MARK: registry

    public static let layerType = LayerType.reshape
    public static let parameterNames = ["leading_dim", "time_step", "shape", "selected"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        let input = inputs[0]
        let perSample = input.sampleCount, batch = input.maxBatch
        if config.selected {
            throw check.error("Reshape with selected = true is not available yet; reshape the whole tensor with leading_dim.")
        }
        if config.leadingDim > 0 {
            let lead = config.leadingDim
            let inner = lead * max(config.timeStep, 1)
            guard perSample % inner == 0 else {
                throw check.error("leading_dim\(config.timeStep > 0 ? " × time_step" : "") = \(inner) must divide the \(perSample) elements of one sample of '\(input.name)' \(input.perSampleShape). Use leading_dim = \(perSample) to flatten each sample.")
            }
            let rowsPerSample = perSample / inner
            let shape: Shape = config.timeStep > 0
                ? [batch * rowsPerSample, config.timeStep, lead] : [batch * rowsPerSample, lead]
            return Reshape(name: config.name, input: input, shape: shape, rowsPerSample: rowsPerSample)
        }
        let dims = config.shape
        guard dims.filter({ $0 == -1 }).count == 1, dims.first == -1, dims.dropFirst().allSatisfy({ $0 > 0 }) else {
            throw check.error("give leading_dim > 0, or shape = [-1, d1, …] with -1 first (the batch) and positive dims; found leading_dim \(config.leadingDim), shape \(dims).")
        }
        let rest = dims.dropFirst().reduce(1, *)
        guard rest == perSample else {
            throw check.error("shape \(dims) holds \(rest) elements per sample but '\(input.name)' \(input.perSampleShape) has \(perSample).")
        }
        return Reshape(name: config.name, input: input, shape: Shape([batch] + dims.dropFirst()), rowsPerSample: 1)
    }

    public static var conformanceCases: [ConformanceCase] {
        func reshape(_ name: String, _ input: [Int], leadingDim: Int = 0, timeStep: Int = 0, shape: [Int] = []) -> ConformanceCase {
            ConformanceCase("Reshape \(name)", DenseLayer(.reshape, bottomNames: ["x"], topNames: ["reshaped"], leadingDim: leadingDim,
                                                    timeStep: timeStep, shape: shape),
                            inputs: [ConformanceInput(input)], batch: 3) { r in r.inputs }
        }
        return [
            reshape("leading_dim", [3, 4], leadingDim: 4), reshape("leading_dim flattening", [3, 4], leadingDim: 12),
            reshape("time_step", [24], leadingDim: 4, timeStep: 3), reshape("shape", [12], shape: [-1, 2, 6]),
        ]
    }
}
