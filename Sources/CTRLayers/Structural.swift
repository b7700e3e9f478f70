import CTRCore

/// `Reshape`: the same elements under another shape. A view: forward and backward move no data.
public final class Reshape: Layer {
    public let name: String
    public let type = LayerType.reshape
    public let inputs: [Variable]
    public let outputs: [Variable]

    /// `shape` is the full output shape for the largest batch; `rowsPerSample` how many of its
    /// leading rows one sample fills.
    public init(name: String, input: Variable, shape: Shape, rowsPerSample: Int) {
        self.name = name
        inputs = [input]
        outputs = [Variable(name: name, value: input.value.reshaped(shape), grad: input.grad.reshaped(shape),
                            rowsPerSample: rowsPerSample)]
    }

    public func forward(_ context: StepContext) {}
    public func backward(_ context: StepContext) {}
}

/// `Concat`: joins inputs along their last dimension (2D, or 3D with axis 2) or along the slot
/// dimension (3D, axis 1). Backward slices the gradient back.
public final class Concat: Layer {
    public let name: String
    public let type = LayerType.concat
    public let inputs: [Variable]
    public let outputs: [Variable]
    /// Each input viewed as rows×width blocks of one output row.
    let widths: [Int], rowsPerSample: Int
    let backend: any Backend

    public init(name: String, inputs: [Variable], axis: Int, backend: any Backend) {
        self.name = name
        self.inputs = inputs
        self.backend = backend
        let first = inputs[0].shape
        var outDims = first.dims
        if first.rank == 3 && axis == 2 {
            widths = inputs.map { $0.shape[2] }
            rowsPerSample = first[1]
            outDims[2] = widths.reduce(0, +)
        } else if first.rank == 3 {
            widths = inputs.map { $0.shape[1] * $0.shape[2] }
            rowsPerSample = 1
            outDims[1] = inputs.map { $0.shape[1] }.reduce(0, +)
        } else {
            widths = inputs.map { $0.shape.last }
            rowsPerSample = 1
            outDims[outDims.count - 1] = widths.reduce(0, +)
        }
        outputs = [Variable(name: name, shape: Shape(outDims), backend: backend, rowsPerSample: inputs[0].rowsPerSample)]
    }

    private func each(_ context: StepContext, _ body: (Variable, Int, Int, Int) -> Void) {
        let total = widths.reduce(0, +)
        var start = 0
        for (input, width) in zip(inputs, widths) {
            body(input, width, start, total)
            start += width
        }
    }

    public func forward(_ context: StepContext) {
        let rows = context.batch * rowsPerSample * inputs[0].rowsPerSample
        each(context) { input, width, start, total in
            backend.copyColumns(input.value, srcWidth: width, srcStart: 0, into: outputs[0].value,
                                dstWidth: total, dstStart: start, rows: rows, width: width, accumulate: false)
        }
    }

    public func backward(_ context: StepContext) {
        let rows = context.batch * rowsPerSample * inputs[0].rowsPerSample
        each(context) { input, width, start, total in
            backend.copyColumns(outputs[0].grad, srcWidth: total, srcStart: start, into: input.grad,
                                dstWidth: width, dstStart: 0, rows: rows, width: width, accumulate: false)
        }
    }
}

/// `Slice`: copies ranges `[a, b)` of the last dimension into one output each; backward sums the
/// output gradients back (overlaps add). The graph also inserts a full-width Slice wherever a
/// tensor feeds several layers, so that its gradients are summed. A full-width output is a view of
/// the input (no copy forward); only its gradient has memory of its own.
public final class Slice: Layer {
    public let name: String
    public let type = LayerType.slice
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let ranges: [Range<Int>]
    let backend: any Backend

    public init(name: String, input: Variable, ranges: [Range<Int>], topNames: [String], backend: any Backend) {
        self.name = name
        self.inputs = [input]
        self.ranges = ranges
        self.backend = backend
        outputs = zip(ranges, topNames).map { range, top in
            if range == 0..<input.shape.last {
                return Variable(name: top, value: input.value, grad: backend.makeTensor(input.shape, .float32),
                                rowsPerSample: input.rowsPerSample)
            }
            var dims = input.shape.dims
            dims[dims.count - 1] = range.count
            return Variable(name: top, shape: Shape(dims), backend: backend, rowsPerSample: input.rowsPerSample)
        }
    }

    private var width: Int { inputs[0].shape.last }
    private func rows(_ context: StepContext) -> Int { inputs[0].count(context.batch) / width }

    public func forward(_ context: StepContext) {
        for (range, output) in zip(ranges, outputs) where output.value !== inputs[0].value {
            backend.copyColumns(inputs[0].value, srcWidth: width, srcStart: range.lowerBound, into: output.value,
                                dstWidth: range.count, dstStart: 0, rows: rows(context), width: range.count,
                                accumulate: false)
        }
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        let full = ranges.count > 0 && ranges[0] == 0..<width
        // An auto-inserted fan-out (every output the whole input): one element-wise sum.
        if ranges.allSatisfy({ $0 == 0..<width }) {
            return backend.sum(outputs.map { $0.grad.prefix([n]) }, into: inputs[0].grad, count: n)
        }
        // Otherwise start from a plain copy of the first gradient when it covers everything.
        if full {
            backend.copy(outputs[0].grad.prefix([n]), to: inputs[0].grad)
        } else {
            backend.fill(inputs[0].grad.prefix([n]), 0)
        }
        for (i, (range, output)) in zip(ranges, outputs).enumerated() where !(full && i == 0) {
            backend.copyColumns(output.grad, srcWidth: range.count, srcStart: 0, into: inputs[0].grad,
                                dstWidth: width, dstStart: range.lowerBound, rows: rows(context), width: range.count,
                                accumulate: true)
        }
    }
}
