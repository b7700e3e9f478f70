import CTRCore

/// `Scale`: repeats a 2D `(B, N)` input `factor` = f times. With `axis = 0` every element is
/// repeated in place, `y[b, j·f + i] = x[b, j]`, output `(B, N·f)`; with `axis = 1` every row is,
/// `y[b·f + i, :] = x[b, :]`, output `(B·f, N)` (one sample then fills f rows). Backward sums the
/// copies: `dx[b, j] = Σ_i dy[b, j·f + i]` (axis 0) or `dx[b, :] = Σ_i dy[b·f + i, :]` (axis 1).
/// Cost: one pass over the output each way.
///
/// ```swift
/// model.add(DenseLayer(.scale, bottomNames: ["item1"], topNames: ["Scale_item"], factor: 10, axis: 1))
/// ```
///
/// HugeCTR: `Scale` (`axis` 0 or 1, `factor` a whole number). HugeCTR's backward takes the first
/// copy's gradient only; SwiftCTR sums all copies, the gradient of the forward (see
/// `docs/compatibility.md`).
public final class Scale: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let axis: Int, factor: Int
    let backend: any Backend

    package init(name: String, input: Variable, axis: Int, factor: Int, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.axis = axis
        self.factor = factor
        inputs = [input]
        let rows = input.shape[0], width = input.shape[1]
        outputs = [axis == 0
            ? Variable(name: name, shape: [rows, width * factor], backend: backend, rowsPerSample: input.rowsPerSample)
            : Variable(name: name, shape: [rows * factor, width], backend: backend,
                       rowsPerSample: input.rowsPerSample * factor)]
    }

    /// The copies as the reductions see them: outer × f × inner, each copy one step of the middle axis.
    private func blocks(_ context: StepContext) -> (outer: Int, inner: Int) {
        let rows = inputs[0].rows(context.batch), width = inputs[0].shape[1]
        return axis == 0 ? (rows * width, 1) : (rows, width)
    }

    public func forward(_ context: StepContext) {
        let b = blocks(context)
        backend.reduceBackward(.sum, dy: inputs[0].value, outer: b.outer, axis: factor, inner: b.inner,
                               into: outputs[0].value)
    }

    public func backward(_ context: StepContext) {
        let b = blocks(context)
        backend.reduce(.sum, outputs[0].grad, outer: b.outer, axis: factor, inner: b.inner, into: inputs[0].grad)
    }

    // MARK: registry

    public static let layerType = LayerType.scale
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames = ["axis", "factor"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.rank(in: [2])
        guard config.axis == 0 || config.axis == 1 else {
            throw check.error("Scale takes axis 0 (repeat every element along the row) or 1 (repeat every row), found axis \(config.axis).")
        }
        guard config.factor >= 1, config.factor.rounded(.towardZero) == config.factor, config.factor < Float(Int32.max) else {
            throw check.error("factor must be a whole number ≥ 1 (the number of copies), found \(config.factor).")
        }
        return Scale(name: config.name, input: inputs[0], axis: config.axis, factor: Int(config.factor),
                     backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func scale(_ shape: [Int], axis: Int, factor: Int, rowsPerSample: Int = 1) -> ConformanceCase {
            let width = shape[0]
            return ConformanceCase("Scale (\(rowsPerSample == 1 ? "B" : "B·\(rowsPerSample)"), \(width)) axis \(axis) factor \(factor)",
                                   DenseLayer(.scale, bottomNames: ["x"], topNames: ["scaled"], factor: Float(factor), axis: axis),
                                   inputs: [ConformanceInput(shape, rowsPerSample: rowsPerSample)], batch: 3) { r in
                let x = r.inputs[0], rows = x.count / width
                return [(0..<rows).flatMap { row -> [Double] in
                    let values = x[row * width..<(row + 1) * width]
                    return axis == 0 ? values.flatMap { Array(repeating: $0, count: factor) }
                        : Array((0..<factor).map { _ in values }.joined())
                }]
            }
        }
        return [scale([5], axis: 0, factor: 3), scale([5], axis: 1, factor: 4), scale([3], axis: 1, factor: 2, rowsPerSample: 2),
                scale([4], axis: 0, factor: 1)]
    }
}
