import CTRCore

/// `Gather`: keeps the positions `indices` (in that order) of the first per-sample dimension of
/// each sample: the rows one sample fills after a `leading_dim` Reshape (`(B·R, N)` → `(B·K, N)`
/// for K indices), else the first dimension after the batch (`(B, S, V)` → `(B, K, V)`,
/// `(B, N)` → `(B, K)`). Backward: 0 at positions not gathered, elsewhere the sum of the gradients
/// of every output position that reads it. Cost: one copy of the output each way.
///
/// ```swift
/// model.add(DenseLayer(.gather, bottomNames: ["reshape1"], topNames: ["gather1"], indices: [1, 3, 5]))
/// ```
///
/// HugeCTR: `Gather`. HugeCTR's (legacy) layer picks rows of the whole per-GPU batch tensor, so
/// its output `(len(indices), N)` mixes samples and is no batch; at HEAD the layer always throws.
/// SwiftCTR gathers within each sample and sums repeated indices' gradients (see
/// `docs/compatibility.md`).
public final class Gather: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let copy: IndexedCopy
    let backend: any Backend

    package init(name: String, input: Variable, indices: [Int], backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [input]
        let perSample = input.perSampleShape.dims
        copy = IndexedCopy(length: perSample[0], inner: perSample.dropFirst().reduce(1, *), index: indices)
        var dims = input.shape.dims
        if input.rowsPerSample > 1 {
            dims[0] = input.maxBatch * indices.count
            outputs = [Variable(name: name, shape: Shape(dims), backend: backend, rowsPerSample: indices.count)]
        } else {
            dims[1] = indices.count
            outputs = [Variable(name: name, shape: Shape(dims), backend: backend)]
        }
    }

    public func forward(_ context: StepContext) {
        copy.forward(inputs[0].value, into: outputs[0].value, outer: context.batch, backend: backend)
    }

    public func backward(_ context: StepContext) {
        copy.backward(outputs[0].grad, into: inputs[0].grad, outer: context.batch, backend: backend)
    }

    // MARK: registry

    public static let layerType = LayerType.gather
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames = ["indices"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        let input = inputs[0]
        guard let length = input.perSampleShape.dims.first else {
            throw check.error("Gather needs per-sample dimensions to gather from; '\(input.name)' has shape \(input.shape). Reshape it to (B, N) first.")
        }
        let what = input.rowsPerSample > 1 ? "the \(length) rows of one sample" : "dimension 1"
        try check.indices(config.indices, "indices", below: length, along: what)
        return Gather(name: config.name, input: input, indices: config.indices, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func gather(_ shape: [Int], rowsPerSample: Int = 1, indices: [Int]) -> ConformanceCase {
            let perSample = rowsPerSample > 1 ? [rowsPerSample] + shape : shape
            return ConformanceCase("Gather \(rowsPerSample > 1 ? "\(rowsPerSample) rows of \(shape)" : "\(shape)") indices \(indices)",
                                   DenseLayer(.gather, bottomNames: ["x"], topNames: ["gathered"], indices: indices),
                                   inputs: [ConformanceInput(shape, rowsPerSample: rowsPerSample)], batch: 3) { r in
                [IndexedCopy.reference(r.inputs[0], length: perSample[0], inner: perSample.dropFirst().reduce(1, *),
                                       index: indices)]
            }
        }
        return [gather([4], rowsPerSample: 6, indices: [1, 3, 5]), gather([5, 3], indices: [4, 0, 0]),
                gather([8], indices: [2, 7, 3, 4])]
    }
}
