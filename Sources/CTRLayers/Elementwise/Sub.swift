import CTRCore

/// `Sub`: `y = x₀ − x₁` for two inputs of identical shape; backward `dx₀ = dy`, `dx₁ = −dy`.
/// Cost: one pass over the inputs each way.
///
/// ```swift
/// model.add(DenseLayer(.sub, bottomNames: ["Scale_item1", "item_his1"], topNames: ["sub_ih"]))
/// ```
///
/// HugeCTR: `Sub`.
public final class Sub: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let backend: any Backend

    package init(name: String, inputs: [Variable], backend: any Backend) {
        self.name = name
        self.backend = backend
        self.inputs = inputs
        outputs = [Variable(name: name, shape: inputs[0].shape, backend: backend, rowsPerSample: inputs[0].rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.binary(.subtract, inputs[0].value, inputs[1].value, into: outputs[0].value,
                       count: inputs[0].count(context.batch))
    }

    public func backward(_ context: StepContext) {
        backend.binaryBackward(.subtract, a: inputs[0].value, b: inputs[1].value, dy: outputs[0].grad,
                               da: inputs[0].grad, db: inputs[1].grad, count: inputs[0].count(context.batch))
    }

    // MARK: registry

    public static let layerType = LayerType.sub
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(2)
        try check.topCount(1)
        try check.sameShapes()
        return Sub(name: config.name, inputs: inputs, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        let reference: @Sendable (ConformanceReference) -> [[Double]] = { r in
            [zip(r.inputs[0], r.inputs[1]).map { $0 - $1 }]
        }
        return [
            ConformanceCase("Sub 2D", DenseLayer(.sub, bottomNames: ["x0", "x1"], topNames: ["sub"]),
                            inputs: [ConformanceInput([6]), ConformanceInput([6])], batch: 3, reference: reference),
            ConformanceCase("Sub after a leading_dim Reshape", DenseLayer(.sub, bottomNames: ["x0", "x1"], topNames: ["sub"]),
                            inputs: Array(repeating: ConformanceInput([4], rowsPerSample: 3), count: 2), batch: 2,
                            reference: reference),
        ]
    }
}
