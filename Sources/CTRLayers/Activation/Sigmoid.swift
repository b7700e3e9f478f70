import CTRCore

/// `Sigmoid`: `y = 1/(1 + e^−x)` element-wise over any shape; backward `dx = dy·y·(1 − y)` from the
/// output. Don't put it before a loss, which applies the sigmoid itself. Cost: a few FLOPs per
/// element each way.
///
/// ```swift
/// model.add(DenseLayer(.sigmoid, bottomNames: ["fc4"], topNames: ["prob"]))
/// ```
///
/// HugeCTR: `Sigmoid`.
public final class Sigmoid: RegisteredLayer {
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
        backend.sigmoid(inputs[0].value, into: outputs[0].value, count: inputs[0].count(context.batch))
    }

    public func backward(_ context: StepContext) {
        backend.sigmoidBackward(outputs[0].value, outputs[0].grad, into: inputs[0].grad,
                                count: inputs[0].count(context.batch))
    }

    // MARK: registry

    public static let layerType = LayerType.sigmoid
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        return Sigmoid(name: config.name, input: inputs[0], backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        let config = DenseLayer(.sigmoid, bottomNames: ["x"], topNames: ["sigmoid"])
        let reference: @Sendable (ConformanceReference) -> [[Double]] = { r in
            [r.inputs[0].map(ConformanceReference.sigmoid)]
        }
        return [
            ConformanceCase("Sigmoid 2D", config, inputs: [ConformanceInput([9])], batch: 3, reference: reference),
            ConformanceCase("Sigmoid 3D", config, inputs: [ConformanceInput([3, 4])], batch: 2, reference: reference),
        ]
    }
}
