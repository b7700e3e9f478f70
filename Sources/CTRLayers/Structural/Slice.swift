import CTRCore

/// `Slice`: copies ranges `[a, b)` of the last dimension into one output each; backward sums the
/// output gradients back (overlaps add). The graph also inserts a full-width Slice wherever a
/// tensor feeds several layers, so that its gradients are summed. A full-width output is a view of
/// the input (no copy forward); only its gradient has memory of its own.
///
/// ```swift
/// model.add(DenseLayer(.slice, bottomNames: ["concat1"], topNames: ["s0", "s1"], ranges: [[0, 10], [5, 20]]))
/// ```
///
/// HugeCTR: `Slice` (ranges in increasing order, as HugeCTR requires).
public final class Slice: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let ranges: [Range<Int>]
    let backend: any Backend

    package init(name: String, input: Variable, ranges: [Range<Int>], topNames: [String], backend: any Backend) {
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

    // MARK: registry

    public static let layerType = LayerType.slice
    public static let parameterNames = ["ranges"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        let width = inputs[0].shape.last
        guard !config.ranges.isEmpty else { throw check.error("ranges is empty; give one [start, end) pair per top name.") }
        guard config.ranges.count == config.topNames.count else {
            throw check.error("\(config.ranges.count) ranges but \(config.topNames.count) top names; give one range per top.")
        }
        var ranges: [Range<Int>] = []
        for pair in config.ranges {
            guard pair.count == 2, pair[0] >= 0, pair[0] < pair[1], pair[1] <= width else {
                throw check.error("range \(pair) must be [start, end) with 0 ≤ start < end ≤ \(width) (the last dimension of '\(inputs[0].name)').")
            }
            if let previous = ranges.last, pair[0] < previous.lowerBound || pair[1] < previous.upperBound {
                throw check.error("ranges must be in increasing order (start and end each non-decreasing); \(pair) follows \([previous.lowerBound, previous.upperBound]).")
            }
            ranges.append(pair[0]..<pair[1])
        }
        return Slice(name: config.name, input: inputs[0], ranges: ranges, topNames: config.topNames, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func slice(_ shape: [Int], _ ranges: [[Int]]) -> ConformanceCase {
            let width = shape.last!
            return ConformanceCase("Slice \(shape) \(ranges)",
                                   DenseLayer(.slice, bottomNames: ["x"], topNames: ranges.indices.map { "s\($0)" }, ranges: ranges),
                                   inputs: [ConformanceInput(shape)], batch: 3) { r in
                let x = r.inputs[0], rows = x.count / width
                return ranges.map { range in (0..<rows).flatMap { row in x[row * width + range[0]..<row * width + range[1]] } }
            }
        }
        return [slice([10], [[0, 4], [2, 7], [7, 10]]), slice([2, 6], [[1, 4], [3, 6]]), slice([5], [[0, 5], [0, 5]]),
                slice([7], [[0, 7], [4, 7]])]
    }
}
