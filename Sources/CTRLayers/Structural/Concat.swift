import CTRCore

/// `Concat`: joins inputs along their last dimension (2D, or 3D with axis 2) or along the slot
/// dimension (3D, axis 1). Backward slices the gradient back. Cost: one copy of the output each way.
///
/// ```swift
/// model.add(DenseLayer(.concat, bottomNames: ["reshape1", "dense"], topNames: ["concat1"]))
/// ```
///
/// HugeCTR: `Concat` (layer math §6.10): 2D inputs join along dim 1 whatever `axis` says, as in
/// HugeCTR; 3D inputs (HugeCTR's Concat3D) join on `axis` 1 (equal vector sizes, output
/// `(B, Σ S_i, V)`) or 2 (equal slot counts, output `(B, S, Σ V_i)`); HugeCTR's degenerate axis 0 is
/// an error. A 2D Concat read only by an InnerProduct is not built: the InnerProduct reads its parts
/// (see `InnerProduct`).
public final class Concat: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    /// Each input viewed as rows×width blocks of one output row.
    let blocks: ColumnBlocks, rowsPerSample: Int
    let backend: any Backend

    /// `outputType` is the output's and its gradient's type (16-bit in mixed precision when only a
    /// MultiCross v2 reads the output).
    package init(name: String, inputs: [Variable], axis: Int, backend: any Backend, outputType: DType = .float32) {
        self.name = name
        self.inputs = inputs
        self.backend = backend
        let first = inputs[0].shape
        var outDims = first.dims
        let widths: [Int]
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
        blocks = ColumnBlocks(widths: widths)
        outputs = [Variable(name: name, shape: Shape(outDims), backend: backend, rowsPerSample: inputs[0].rowsPerSample,
                            valueType: outputType, gradType: outputType)]
    }

    private func rows(_ context: StepContext) -> Int { context.batch * rowsPerSample * inputs[0].rowsPerSample }

    public func forward(_ context: StepContext) {
        blocks.join(inputs, into: outputs[0].value, rows: rows(context), backend: backend)
    }

    public func backward(_ context: StepContext) {
        blocks.split(outputs[0].grad, intoGradientsOf: inputs, rows: rows(context), backend: backend)
    }

    // MARK: registry

    public static let layerType = LayerType.concat
    public static let parameterNames = ["axis"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.topCount(1)
        guard inputs.count >= 2 else { throw check.error("Concat needs at least 2 bottom tensors, found \(inputs.count).") }
        let rank = inputs[0].shape.rank
        guard rank == 2 || rank == 3, inputs.allSatisfy({ $0.shape.rank == rank }) else {
            throw check.error("all bottoms must be 2D or all 3D, found \(check.describeInputs()). Reshape them to a common rank first.")
        }
        guard inputs.allSatisfy({ $0.shape[0] == inputs[0].shape[0] }) else {
            throw check.error("all bottoms must have the same number of rows, found \(check.describeInputs()).")
        }
        if rank == 3 {
            guard config.axis == 1 || config.axis == 2 else {
                throw check.error("3D Concat takes axis 1 or 2, found \(config.axis).")
            }
            let keep = config.axis == 1 ? 2 : 1
            guard inputs.allSatisfy({ $0.shape[keep] == inputs[0].shape[keep] }) else {
                throw check.error("concatenating on axis \(config.axis) needs equal dimension \(keep), found \(check.describeInputs()).")
            }
        }
        return Concat(name: config.name, inputs: inputs, axis: config.axis, backend: context.backend,
                      outputType: context.outputType)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Inputs of per-sample `shapes`, concatenated on `axis`: each sample (axis 1) or each
        /// sample's slot row (3D, axis 2) joins its inputs' blocks in order.
        func concat(_ shapes: [[Int]], axis: Int, rowsPerSample inputRows: Int = 1) -> ConformanceCase {
            let perRow = shapes[0].count == 2 && axis == 2, rowsPerSample = perRow ? shapes[0][0] : 1
            let widths = shapes.map { perRow ? $0[1] : $0.reduce(1, *) }
            let rowsNote = ConformanceInput.rowsNote(inputRows)
            return ConformanceCase("Concat \(shapes) axis \(axis)\(rowsNote)",
                                   DenseLayer(.concat, bottomNames: shapes.indices.map { "x\($0)" }, topNames: ["concat"], axis: axis),
                                   inputs: shapes.map { ConformanceInput($0, rowsPerSample: inputRows) }, batch: 3) { r in
                [ConformanceReference.joinedRows(r.inputs, widths: widths, rows: r.batch * rowsPerSample * inputRows)]
            }
        }
        return [concat([[3], [1], [5]], axis: 1), concat([[2, 4], [3, 4]], axis: 1), concat([[3, 2], [3, 5], [3, 1]], axis: 2),
                concat([[1, 3], [2, 3], [4, 3], [1, 3]], axis: 1), concat([[2, 3], [2, 1]], axis: 2, rowsPerSample: 2),
                concat([[4], [2]], axis: 2)]
    }
}
