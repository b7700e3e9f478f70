import CTRCore

/// `ElementwiseMultiply`: `y = Πᵢ xᵢ` over two or more inputs of identical shape; backward
/// `dxᵢ = dy·Π_{j≠i} xⱼ`. Cost: N−1 passes forward, N−1 per input backward.
///
/// ```swift
/// model.add(DenseLayer(.elementwiseMultiply, bottomNames: ["slice1", "slice2"], topNames: ["eltmultiply1"]))
/// ```
///
/// HugeCTR: `ElementwiseMultiply`. HugeCTR's backward divides, `dxᵢ = dy·y/xᵢ`, and gives every
/// input a zero gradient where the product is 0; SwiftCTR multiplies the other factors, so an input
/// whose own value is 0 still gets `dy·Π_{j≠i} xⱼ` (see `docs/compatibility.md`).
public final class ElementwiseMultiply: RegisteredLayer {
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
        let n = inputs[0].count(context.batch), y = outputs[0].value
        backend.multiply(inputs[0].value, inputs[1].value, into: y, count: n)
        for input in inputs.dropFirst(2) { backend.multiply(y, input.value, into: y, count: n) }
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch), dy = outputs[0].grad
        for (i, input) in inputs.enumerated() {
            let others = inputs.indices.filter { $0 != i }.map { inputs[$0].value }
            backend.multiply(dy, others[0], into: input.grad, count: n)
            for x in others.dropFirst() { backend.multiply(input.grad, x, into: input.grad, count: n) }
        }
    }

    // MARK: registry

    public static let layerType = LayerType.elementwiseMultiply
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.topCount(1)
        guard inputs.count >= 2 else {
            throw check.error("ElementwiseMultiply needs at least 2 bottom tensors, found \(inputs.count).")
        }
        try check.sameShapes()
        return ElementwiseMultiply(name: config.name, inputs: inputs, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        let reference: @Sendable (ConformanceReference) -> [[Double]] = { r in
            [r.inputs[0].indices.map { i in r.inputs.reduce(1) { $0 * $1[i] } }]
        }
        func multiply(_ shape: [Int], inputs count: Int) -> ConformanceCase {
            ConformanceCase("ElementwiseMultiply, \(count) inputs \(shape)",
                            DenseLayer(.elementwiseMultiply, bottomNames: (0..<count).map { "x\($0)" }, topNames: ["product"]),
                            inputs: Array(repeating: ConformanceInput(shape), count: count), batch: 3, reference: reference)
        }
        return [multiply([6], inputs: 2), multiply([2, 4], inputs: 3)]
    }
}
