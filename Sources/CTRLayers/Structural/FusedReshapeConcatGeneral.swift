import CTRCore

/// `FusedReshapeConcatGeneral`: joins K 3D inputs `(B, S, W_k)` slot by slot and gives every slot a
/// row of its own: `y[b·S + s, :] = [x_0[b, s, :] | x_1[b, s, :] | …]`, output `(B·S, Σ W_k)` (each
/// sample fills S rows). Backward splits the rows back. Cost: one copy of the output each way.
///
/// ```swift
/// model.add(DenseLayer(.fusedReshapeConcatGeneral, bottomNames: ["sparse_embedding_good", "sparse_embedding_cate"],
///                      topNames: ["FusedReshapeConcat_item_his_em"]))
/// ```
///
/// HugeCTR: `FusedReshapeConcatGeneral` (layer math §6.26), fp32 only.
public final class FusedReshapeConcatGeneral: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let blocks: ColumnBlocks, slots: Int
    let backend: any Backend

    package init(name: String, inputs: [Variable], backend: any Backend) {
        self.name = name
        self.inputs = inputs
        self.backend = backend
        let first = inputs[0]
        slots = first.shape[1]
        blocks = ColumnBlocks(widths: inputs.map { $0.shape[2] })
        outputs = [Variable(name: name, shape: [first.shape[0] * slots, blocks.total], backend: backend,
                            rowsPerSample: first.rowsPerSample * slots)]
    }

    private func rows(_ context: StepContext) -> Int { inputs[0].rows(context.batch) * slots }

    public func forward(_ context: StepContext) {
        blocks.join(inputs, into: outputs[0].value, rows: rows(context), backend: backend)
    }

    public func backward(_ context: StepContext) {
        blocks.split(outputs[0].grad, intoGradientsOf: inputs, rows: rows(context), backend: backend)
    }

    // MARK: registry

    public static let layerType = LayerType.fusedReshapeConcatGeneral
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames: [String] = []

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.topCount(1)
        try check.slotTensors()
        return FusedReshapeConcatGeneral(name: config.name, inputs: inputs, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Every (sample, slot) row joins its inputs' vectors in order.
        func fused(_ shapes: [[Int]], rowsPerSample: Int = 1) -> ConformanceCase {
            let rowsNote = ConformanceInput.rowsNote(rowsPerSample)
            return ConformanceCase("FusedReshapeConcatGeneral \(shapes)\(rowsNote)",
                                   DenseLayer(.fusedReshapeConcatGeneral, bottomNames: shapes.indices.map { "x\($0)" },
                                              topNames: ["joined"]),
                                   inputs: shapes.map { ConformanceInput($0, rowsPerSample: rowsPerSample) }, batch: 3) { r in
                [ConformanceReference.joinedRows(r.inputs, widths: shapes.map { $0[1] }, rows: r.batch * rowsPerSample * shapes[0][0])]
            }
        }
        return [fused([[3, 2], [3, 4]]), fused([[2, 3]]), fused([[2, 1], [2, 3], [2, 2]], rowsPerSample: 2)]
    }
}

extension Checker {
    /// The fused reshape-concats' inputs: one or more 3D `(B, S, W_k)` tensors of equal B and S.
    func slotTensors() throws {
        try rank(in: [3])
        let first = inputs[0]
        guard inputs.allSatisfy({ $0.shape.dims.prefix(2) == first.shape.dims.prefix(2) && $0.rowsPerSample == first.rowsPerSample }) else {
            throw error("all bottoms must have the same batch and slot count (dimensions 0 and 1), found \(describeInputs()).")
        }
    }
}
