import CTRCore

/// What ReduceSum and ReduceMean share: one per-sample axis reduced (`op`) to length 1, and the
/// broadcast back. Cost: one pass over the input each way.
///
/// ```swift
/// let mean = try ReduceMean.make(DenseLayer(.reduceMean, bottomNames: ["fm"], topNames: ["m"], axis: 1),
///                                inputs: [fm], context: context)  // an AxisReduction with op .mean
/// ```
public class AxisReduction {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let op: ReduceOp
    let axes: ReducedAxes
    let backend: any Backend

    /// `axis` counts the batch as 0 and must be in `1..<rank` (`make` checks it).
    init(name: String, input: Variable, axis: Int, op: ReduceOp, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.op = op
        inputs = [input]
        axes = ReducedAxes(input.shape, axis: axis)
        outputs = [Variable(name: name, shape: axes.outputShape, backend: backend, rowsPerSample: input.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.reduce(op, inputs[0].value, outer: inputs[0].rows(context.batch) * axes.outerPerRow, axis: axes.length,
                       inner: axes.inner, into: outputs[0].value)
    }

    public func backward(_ context: StepContext) {
        backend.reduceBackward(op, dy: outputs[0].grad, outer: inputs[0].rows(context.batch) * axes.outerPerRow,
                               axis: axes.length, inner: axes.inner, into: inputs[0].grad)
    }

    /// Checks the shape rules both layers share (one bottom, one top, a per-sample axis).
    static func check(_ config: DenseLayer, inputs: [Variable]) throws {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.perSampleAxis(config.axis)
    }
}

/// A tensor seen as outer × axis × inner around one reduced axis (batch = axis 0), as the
/// reductions take it: `outerPerRow` outer blocks per leading row.
struct ReducedAxes {
    let length: Int, inner: Int, outerPerRow: Int
    let outputShape: Shape

    init(_ shape: Shape, axis: Int) {
        let dims = shape.dims
        length = dims[axis]
        inner = dims[(axis + 1)...].reduce(1, *)
        outerPerRow = dims[1..<axis].reduce(1, *)
        var outDims = dims
        outDims[axis] = 1
        outputShape = Shape(outDims)
    }

    /// The float64 sum over `axis` (batch = 0) of rows of per-sample shape `perSample`.
    static func referenceSum(_ x: [Double], perSample: [Int], axis: Int) -> [Double] {
        let length = perSample[axis - 1], inner = perSample[axis...].reduce(1, *), outer = x.count / (length * inner)
        var y = [Double](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for a in 0..<length { for i in 0..<inner { y[o * inner + i] += x[(o * length + a) * inner + i] } }
        }
        return y
    }
}

extension Checker {
    /// `axis` is a per-sample axis of the (one) input: 1 ≤ axis < rank.
    func perSampleAxis(_ axis: Int) throws {
        let rank = inputs[0].shape.rank
        guard axis >= 1 && axis < rank else {
            throw error("axis must be a per-sample axis in 1..<\(rank) for input '\(inputs[0].name)' of shape \(inputs[0].shape), found \(axis). Axis 0 is the batch.")
        }
    }
}
