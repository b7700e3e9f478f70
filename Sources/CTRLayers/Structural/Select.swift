import CTRCore

/// `Select`: keeps the positions `index` of dimension `dim` (the batch is dim 0), in that order:
/// the output is the input with dimension `dim` replaced by `len(index)`,
/// `y[…, j, …] = x[…, index[j], …]`. Backward: `dx` is 0 at unselected positions and the sum of
/// the gradients of every output position that reads it elsewhere (an index listed twice sums).
/// Cost: one copy of the output each way.
///
/// ```swift
/// model.add(DenseLayer(.select, bottomNames: ["emb"], topNames: ["picked"], dim: 1, index: [0, 2, 5]))
/// ```
///
/// HugeCTR: `Select`. HugeCTR's fp32 build runs a 16-bit kernel (garbage), leaves stale forward
/// values as the gradient of unselected positions and lets the last repeat win; SwiftCTR computes
/// the gradient of the forward (see `docs/compatibility.md`).
public final class Select: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let copy: IndexedCopy
    /// Outer blocks per leading row of the input.
    let outerPerRow: Int
    let backend: any Backend

    package init(name: String, input: Variable, dim: Int, index: [Int], backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [input]
        var dims = input.shape.dims
        copy = IndexedCopy(length: dims[dim], inner: dims[(dim + 1)...].reduce(1, *), index: index)
        outerPerRow = dims[1..<dim].reduce(1, *)
        dims[dim] = index.count
        outputs = [Variable(name: name, shape: Shape(dims), backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    private func outer(_ context: StepContext) -> Int { inputs[0].rows(context.batch) * outerPerRow }

    public func forward(_ context: StepContext) {
        copy.forward(inputs[0].value, into: outputs[0].value, outer: outer(context), backend: backend)
    }

    public func backward(_ context: StepContext) {
        copy.backward(outputs[0].grad, into: inputs[0].grad, outer: outer(context), backend: backend)
    }

    // MARK: registry

    public static let layerType = LayerType.select
    public static let parameterNames = ["dim", "index"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        let shape = inputs[0].shape
        guard config.dim >= 1 && config.dim < shape.rank else {
            throw check.error("dim must be a per-sample dimension in 1..<\(shape.rank) for input '\(inputs[0].name)' of shape \(shape), found \(config.dim). Dim 0 is the batch.")
        }
        try check.indices(config.index, "index", below: shape[config.dim], along: "dimension \(config.dim)")
        return Select(name: config.name, input: inputs[0], dim: config.dim, index: config.index, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func select(_ shape: [Int], dim: Int, index: [Int]) -> ConformanceCase {
            ConformanceCase("Select \(shape) dim \(dim) index \(index)",
                            DenseLayer(.select, bottomNames: ["x"], topNames: ["selected"], dim: dim, index: index),
                            inputs: [ConformanceInput(shape)], batch: 3) { r in
                [IndexedCopy.reference(r.inputs[0], length: shape[dim - 1], inner: shape[dim...].reduce(1, *), index: index)]
            }
        }
        return [select([6], dim: 1, index: [4, 0, 1, 2]), select([4, 3], dim: 1, index: [3, 1, 1]),
                select([4, 3], dim: 2, index: [2, 0]), select([2, 5, 2], dim: 2, index: [1, 2, 3, 0, 4, 4])]
    }
}
