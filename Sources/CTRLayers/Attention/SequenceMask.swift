import CTRCore

/// `SequenceMask`: an attention mask from per-sample sequence lengths. Bottoms: the query
/// lengths `from` and the key lengths `to`, each `(B, 1)`; top `(B, 1, Lf, Lt)` with
/// `Lf = max_sequence_len_from`, `Lt = max_sequence_len_to`:
/// `mask[b, 0, i, j] = 1` when `i < trunc(from[b])` and `j < trunc(to[b])`, else 0 (lengths are
/// truncated toward zero; ≤ 0 masks everything, ≥ the maximum nothing). The lengths get a zero
/// gradient. Cost: one `sequenceMask` kernel, 4 bytes written per mask element.
///
/// ```swift
/// model.add(DenseLayer(.sequenceMask, bottomNames: ["dense", "dense"], topNames: ["sequence_mask"],
///                      maxSequenceLenFrom: 10, maxSequenceLenTo: 10))
/// ```
///
/// HugeCTR: `SequenceMask` (layer math §6.31); its output is the mask `MultiHeadAttention` reads.
public final class SequenceMask: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let maxFrom: Int, maxTo: Int
    let backend: any Backend

    package init(name: String, from: Variable, to: Variable, maxFrom: Int, maxTo: Int, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.maxFrom = maxFrom
        self.maxTo = maxTo
        inputs = [from, to]
        outputs = [Variable(name: name, shape: [from.maxBatch, 1, maxFrom, maxTo], backend: backend)]
    }

    public func forward(_ context: StepContext) {
        backend.sequenceMask(from: inputs[0].value, to: inputs[1].value, samples: context.batch, rows: maxFrom, cols: maxTo,
                             into: outputs[0].value)
    }

    public func backward(_ context: StepContext) {
        for input in inputs { backend.fill(input.grad.prefix([context.batch]), 0) }
    }

    // MARK: registry

    public static let layerType = LayerType.sequenceMask
    public static let parameterNames = ["max_sequence_len_from", "max_sequence_len_to"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(2)
        try check.topCount(1)
        try check.positive(config.maxSequenceLenFrom, "max_sequence_len_from")
        try check.positive(config.maxSequenceLenTo, "max_sequence_len_to")
        for input in inputs where input.shape.rank != 2 || input.shape[1] != 1 || input.rowsPerSample != 1 {
            throw check.error("bottom '\(input.name)' must hold one sequence length per sample, (batch, 1), found \(input.perSampleShape) per sample. Slice the length column out of the dense input.")
        }
        guard inputs[0].maxBatch == inputs[1].maxBatch else {
            throw check.error("both bottoms must hold the same batch, found \(inputs[0].maxBatch) and \(inputs[1].maxBatch) samples.")
        }
        return SequenceMask(name: config.name, from: inputs[0], to: inputs[1], maxFrom: config.maxSequenceLenFrom,
                            maxTo: config.maxSequenceLenTo, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Lengths drawn from U(−1, max + 1.5), so that some are negative, fractional or too long.
        func sequenceMask(from: Int, to: Int, batch: Int = 6) -> ConformanceCase {
            func lengths(_ max: Int) -> ConformanceInput {
                ConformanceInput([1], values: .uniform(-1, Double(max) + 1.5), differentiable: false)
            }
            return ConformanceCase("SequenceMask \(from)×\(to), batch \(batch)",
                                   DenseLayer(.sequenceMask, bottomNames: ["from", "to"], topNames: ["mask"],
                                              maxSequenceLenFrom: from, maxSequenceLenTo: to),
                                   inputs: [lengths(from), lengths(to)], batch: batch) { r in
                [(0..<r.batch).flatMap { b in
                    (0..<from * to).map { e in
                        Double(e / to) < r.inputs[0][b].rounded(.towardZero) && Double(e % to) < r.inputs[1][b].rounded(.towardZero)
                            ? 1 : 0
                    }
                }]
            }
        }
        return [sequenceMask(from: 4, to: 5), sequenceMask(from: 1, to: 1, batch: 3), sequenceMask(from: 3, to: 1)]
    }
}
