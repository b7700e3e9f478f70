import CTRCore

/// `ReLU`: `y = max(x, 0)` element-wise over any shape; backward `dx = x > 0 ? dy : 0` (strict: an
/// input of exactly 0 passes no gradient, as in HugeCTR). Cost: one FLOP per element each way.
///
/// ```swift
/// model.add(DenseLayer(.relu, bottomNames: ["fc1"], topNames: ["relu1"]))
/// ```
///
/// HugeCTR: `ReLU`. A ReLU read only by a Dropout runs as the fused `ReLUDropout`.
public final class ReLU: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let backend: any Backend

    package init(name: String, input: Variable, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.relu(inputs[0].value, into: outputs[0].value, count: inputs[0].count(context.batch))
    }

    public func backward(_ context: StepContext) {
        backend.reluBackward(inputs[0].value, outputs[0].grad, into: inputs[0].grad, count: inputs[0].count(context.batch))
    }

    // MARK: registry

    public static let layerType = LayerType.relu
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        return ReLU(name: config.name, input: inputs[0], backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        let config = DenseLayer(.relu, bottomNames: ["x"], topNames: ["relu"])
        let reference: @Sendable (ConformanceReference) -> [[Double]] = { r in [r.inputs[0].map { max($0, 0) }] }
        return [
            ConformanceCase("ReLU 2D", config, inputs: [ConformanceInput([7], values: .awayFromZero)], batch: 3,
                            reference: reference),
            ConformanceCase("ReLU 3D", config, inputs: [ConformanceInput([2, 5], values: .awayFromZero)], batch: 2,
                            reference: reference),
            ConformanceCase("ReLU after a leading_dim Reshape", config,
                            inputs: [ConformanceInput([4], rowsPerSample: 3, values: .awayFromZero)], batch: 2,
                            reference: reference),
        ]
    }
}
