import CTRCore

/// `FusedReshapeConcat`: joins K 3D inputs `(B, S, W_k)` slot by slot into
/// `C[b, s, :] = [x_0[b, s, :] | x_1[b, s, :] | …]` and splits off the last slot: the first top,
/// **item** `(B·(S−1), Σ W_k)`, holds `item[b·(S−1) + s, :] = C[b, s, :]` for s < S−1 (each sample
/// fills S−1 rows), the second, **ad** `(B, Σ W_k)`, holds `ad[b, :] = C[b, S−1, :]`. Backward
/// scatters both gradients back. Cost: two copies of the inputs each way (one with a single input).
///
/// ```swift
/// model.add(DenseLayer(.fusedReshapeConcat, bottomNames: ["sparse_embedding_good", "sparse_embedding_cate"],
///                      topNames: ["FusedReshapeConcat_item_his_em", "FusedReshapeConcat_item"]))
/// ```
///
/// HugeCTR: `FusedReshapeConcat` (layer math §6.25), fp32 only.
public final class FusedReshapeConcat: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let blocks: ColumnBlocks, slots: Int
    /// C and its gradient: the input itself when there is one, else one scratch matrix for both
    /// (backward no longer needs the forward C).
    let joined: Tensor, joinedGrad: Tensor
    let backend: any Backend

    package init(name: String, inputs: [Variable], topNames: [String], backend: any Backend) {
        self.name = name
        self.inputs = inputs
        self.backend = backend
        let first = inputs[0], rows = first.shape[0]
        slots = first.shape[1]
        blocks = ColumnBlocks(widths: inputs.map { $0.shape[2] })
        if inputs.count == 1 {
            (joined, joinedGrad) = (first.value, first.grad)
        } else {
            joined = backend.makeTensor([rows * slots, blocks.total], .float32)
            joinedGrad = joined
        }
        outputs = [
            Variable(name: topNames[0], shape: [rows * (slots - 1), blocks.total], backend: backend,
                     rowsPerSample: first.rowsPerSample * (slots - 1)),
            Variable(name: topNames[1], shape: [rows, blocks.total], backend: backend, rowsPerSample: first.rowsPerSample),
        ]
    }

    public func forward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), width = blocks.total, items = (slots - 1) * width
        if inputs.count > 1 { blocks.join(inputs, into: joined, rows: rows * slots, backend: backend) }
        backend.copyColumns(joined, srcWidth: slots * width, srcStart: 0, into: outputs[0].value, dstWidth: items,
                            dstStart: 0, rows: rows, width: items, accumulate: false)
        backend.copyColumns(joined, srcWidth: slots * width, srcStart: items, into: outputs[1].value, dstWidth: width,
                            dstStart: 0, rows: rows, width: width, accumulate: false)
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), width = blocks.total, items = (slots - 1) * width
        backend.copyColumns(outputs[0].grad, srcWidth: items, srcStart: 0, into: joinedGrad, dstWidth: slots * width,
                            dstStart: 0, rows: rows, width: items, accumulate: false)
        backend.copyColumns(outputs[1].grad, srcWidth: width, srcStart: 0, into: joinedGrad, dstWidth: slots * width,
                            dstStart: items, rows: rows, width: width, accumulate: false)
        if inputs.count > 1 { blocks.split(joinedGrad, intoGradientsOf: inputs, rows: rows * slots, backend: backend) }
    }

    // MARK: registry

    public static let layerType = LayerType.fusedReshapeConcat
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.topCount(2)
        try check.slotTensors()
        guard inputs[0].shape[1] >= 2 else {
            throw check.error("needs at least 2 slots (the items, then the ad in the last slot), found \(inputs[0].shape[1]) in \(check.describeInputs()).")
        }
        return FusedReshapeConcat(name: config.name, inputs: inputs, topNames: config.topNames, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// C's rows per sample: the first S−1 go to item, the last to ad.
        func fused(_ shapes: [[Int]], rowsPerSample: Int = 1) -> ConformanceCase {
            let slots = shapes[0][0], width = shapes.map { $0[1] }.reduce(0, +)
            let rowsNote = ConformanceInput.rowsNote(rowsPerSample)
            return ConformanceCase("FusedReshapeConcat \(shapes)\(rowsNote)",
                                   DenseLayer(.fusedReshapeConcat, bottomNames: shapes.indices.map { "x\($0)" },
                                              topNames: ["item", "ad"]),
                                   inputs: shapes.map { ConformanceInput($0, rowsPerSample: rowsPerSample) }, batch: 3) { r in
                let rows = r.batch * rowsPerSample
                let c = ConformanceReference.joinedRows(r.inputs, widths: shapes.map { $0[1] }, rows: rows * slots)
                let perRow = slots * width, items = (slots - 1) * width
                return [(0..<rows).flatMap { c[$0 * perRow..<$0 * perRow + items] },
                        (0..<rows).flatMap { c[$0 * perRow + items..<($0 + 1) * perRow] }]
            }
        }
        return [fused([[4, 2], [4, 3]]), fused([[3, 2]]), fused([[2, 1], [2, 2], [2, 3]], rowsPerSample: 2)]
    }
}
