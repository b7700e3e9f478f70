import CTRCore

/// `ReduceSum`: sums one per-sample axis of the input, which becomes 1 in the output:
/// `y[o, 0, i] = Σ_a x[o, a, i]`; backward broadcasts `dy` back: `dx[o, a, i] = dy[o, 0, i]`.
/// Cost: one pass over the input each way.
///
/// ```swift
/// model.add(DenseLayer(.reduceSum, bottomNames: ["fm"], topNames: ["fm_sum"], axis: 1))
/// ```
///
/// HugeCTR: `ReduceSum` (`axis` counts the batch as 0; only per-sample axes 1… are allowed).
public final class ReduceSum: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let axisLength: Int, inner: Int, outerPerSample: Int
    let backend: any Backend

    /// `axis` counts the batch as 0 and must be in `1..<rank` (`make` checks it).
    package init(name: String, input: Variable, axis: Int, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [input]
        let dims = input.shape.dims
        axisLength = dims[axis]
        inner = dims[(axis + 1)...].reduce(1, *)
        outerPerSample = dims[1..<axis].reduce(1, *)
        var outDims = dims
        outDims[axis] = 1
        outputs = [Variable(name: name, shape: Shape(outDims), backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.reduceSum(inputs[0].value, outer: inputs[0].rows(context.batch) * outerPerSample, axis: axisLength,
                          inner: inner, into: outputs[0].value)
    }

    public func backward(_ context: StepContext) {
        backend.reduceSumBackward(outputs[0].grad, outer: inputs[0].rows(context.batch) * outerPerSample,
                                  axis: axisLength, inner: inner, into: inputs[0].grad)
    }

    // MARK: registry

    public static let layerType = LayerType.reduceSum
    public static let parameterNames = ["axis"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        let rank = inputs[0].shape.rank
        guard config.axis >= 1 && config.axis < rank else {
            throw check.error("axis must be a per-sample axis in 1..<\(rank) for input '\(inputs[0].name)' of shape \(inputs[0].shape), found \(config.axis). Axis 0 is the batch.")
        }
        return ReduceSum(name: config.name, input: inputs[0], axis: config.axis, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Sums axis `axis` (batch = 0) of rows of per-row shape `shape`.
        func reduceSum(_ shape: [Int], axis: Int) -> ConformanceCase {
            let length = shape[axis - 1], inner = shape[axis...].reduce(1, *)
            return ConformanceCase("ReduceSum \(shape) axis \(axis)",
                                   DenseLayer(.reduceSum, bottomNames: ["x"], topNames: ["sum"], axis: axis),
                                   inputs: [ConformanceInput(shape)], batch: 3) { r in
                let x = r.inputs[0], outer = x.count / (length * inner)
                var y = [Double](repeating: 0, count: outer * inner)
                for o in 0..<outer {
                    for a in 0..<length { for i in 0..<inner { y[o * inner + i] += x[(o * length + a) * inner + i] } }
                }
                return [y]
            }
        }
        return [reduceSum([5], axis: 1), reduceSum([3, 4], axis: 1), reduceSum([3, 4], axis: 2),
                reduceSum([2, 3, 2], axis: 2)]
    }
}
