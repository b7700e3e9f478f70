import CTRCore

/// `Add`: `y = Σᵢ xᵢ` over two or more inputs of identical shape; backward `dxᵢ = dy` for each.
/// Cost: one pass over the inputs forward, one copy per input backward.
///
/// ```swift
/// model.add(DenseLayer(.add, bottomNames: ["fc3", "fc4"], topNames: ["sum"]))
/// ```
///
/// HugeCTR: `Add`.
public final class Add: RegisteredLayer {
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
        backend.sum(inputs.map(\.value), into: outputs[0].value, count: inputs[0].count(context.batch))
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        for input in inputs { backend.copy(outputs[0].grad.prefix([n]), to: input.grad) }
    }

    // MARK: registry

    public static let layerType = LayerType.add
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.topCount(1)
        guard inputs.count >= 2 else { throw check.error("Add needs at least 2 bottom tensors, found \(inputs.count).") }
        try check.sameShapes()
        return Add(name: config.name, inputs: inputs, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        let reference: @Sendable (ConformanceReference) -> [[Double]] = { r in
            [r.inputs[0].indices.map { i in r.inputs.reduce(0) { $0 + $1[i] } }]
        }
        return [
            ConformanceCase("Add, 2 inputs", DenseLayer(.add, bottomNames: ["x0", "x1"], topNames: ["sum"]),
                            inputs: [ConformanceInput([6]), ConformanceInput([6])], batch: 3, reference: reference),
            ConformanceCase("Add, 3 inputs 3D", DenseLayer(.add, bottomNames: ["x0", "x1", "x2"], topNames: ["sum"]),
                            inputs: Array(repeating: ConformanceInput([2, 5]), count: 3), batch: 2, reference: reference),
        ]
    }
}
