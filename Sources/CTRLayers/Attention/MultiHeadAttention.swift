import CTRCore

/// `MultiHeadAttention`: scaled dot-product attention over h = `num_attention_heads` heads, with no
/// learned projections. Bottoms: Q `(B, Lf, D)`, K `(B, Lt, D)`, V `(B, Lt, D)` and optionally a
/// mask M, `(B, 1, Lf, Lt)` (HugeCTR's, e.g. from `SequenceMask`) or `(B, 1, 1, Lt)` (one row for
/// every query); top `(B, Lf, D)`.
///
/// Head j of a tensor is its columns `j·d..<(j+1)·d`, `d = D/h`. Per sample and head:
/// `S = Q_j·K_jᵀ/√d − 10000·(1 − M)` (Lf × Lt), `P = softmax(S)` over each row, `O_j = P·V_j`.
/// Backward: `dV_j = Pᵀ·dO_j`, `dP = dO_j·V_jᵀ`, `dS = P ⊙ (dP − Σ_row dP ⊙ P)`,
/// `dQ_j = dS·K_j/√d`, `dK_j = dSᵀ·Q_j/√d`; the mask gets a zero gradient.
/// Cost: 4·B·Lf·Lt·D FLOPs forward and 8·B·Lf·Lt·D backward in batched GEMMs over the B·h
/// (sample, head) pairs, one row softmax over B·h·Lf rows of Lt, and with h > 1 one copy of each
/// of Q, K, V and O into head-major order (h, B, L, d) each way.
///
/// ```swift
/// model.add(DenseLayer(.multiHeadAttention, bottomNames: ["query", "key", "value", "sequence_mask"],
///                      topNames: ["attention_out"], numAttentionHeads: 4))
/// ```
///
/// HugeCTR: `MultiHeadAttention` (layer math §6.30). `transpose_b` is accepted and ignored, as in
/// HugeCTR. Unlike HugeCTR, D must be a multiple of h, and the softmax subtracts each row's
/// maximum (HugeCTR's unmasked softmax does not, and overflows for scores above 88).
public final class MultiHeadAttention: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let heads: Int
    let queries: Int, keys: Int, width: Int, headWidth: Int
    /// P (h, B, Lf, Lt), then in backward dP and dS.
    let probabilities: Tensor, scoreGradient: Tensor
    /// Q, K, V and O (then dO) in head-major order (h, B, L, d), and dQ, dK, dV before they are
    /// merged back; nil with one head, where the tensors already are in that order.
    let split: (q: Tensor, k: Tensor, v: Tensor, o: Tensor, dq: Tensor, dk: Tensor, dv: Tensor)?
    let mask: Mask?
    let backend: any Backend

    /// The mask's workspaces: `10000·(M − 1)` as given, then repeated over the queries when M has
    /// one row; one element holding 1.
    struct Mask {
        let rows: Int
        let penalty: Tensor, repeated: Tensor, one: Tensor
    }

    package init(name: String, query: Variable, key: Variable, value: Variable, mask: Variable?, heads: Int,
                backend: any Backend) {
        self.name = name
        self.backend = backend
        self.heads = heads
        inputs = [query, key, value] + (mask.map { [$0] } ?? [])
        let samples = query.maxBatch, lf = query.shape[1], lt = key.shape[1]
        queries = lf
        keys = lt
        width = query.shape[2]
        headWidth = width / heads
        outputs = [Variable(name: name, shape: query.shape, backend: backend)]
        probabilities = backend.makeTensor([heads * samples * lf * lt], .float32)
        scoreGradient = backend.makeTensor([heads * samples * lf * lt], .float32)
        if heads > 1 {
            func like(_ v: Variable) -> Tensor { backend.makeTensor(v.shape, .float32) }
            split = (like(query), like(key), like(value), like(query), like(query), like(key), like(value))
        } else {
            split = nil
        }
        self.mask = mask.map { m in
            let one = backend.makeTensor([1], .float32)
            backend.fill(one, 1)
            return Mask(rows: m.shape[2], penalty: backend.makeTensor(m.shape, .float32),
                        repeated: backend.makeTensor([samples, lf, lt], .float32), one: one)
        }
    }

    /// Copies head j of `x` (rows × D) to block j of `heads` (h blocks of rows × d), or back.
    private func reorder(_ x: Tensor, _ headMajor: Tensor, rows: Int, toHeads: Bool) {
        for j in 0..<heads {
            let block = headMajor.view(from: j * rows * headWidth, [rows * headWidth])
            if toHeads {
                backend.copyColumns(x, srcWidth: width, srcStart: j * headWidth, into: block, dstWidth: headWidth, dstStart: 0,
                                    rows: rows, width: headWidth, accumulate: false)
            } else {
                backend.copyColumns(block, srcWidth: headWidth, srcStart: 0, into: x, dstWidth: width, dstStart: j * headWidth,
                                    rows: rows, width: headWidth, accumulate: false)
            }
        }
    }

    /// `x` in head-major order: `x` itself with one head, else its copy in `buffer`.
    private func headMajor(_ x: Tensor, _ buffer: Tensor?, rows: Int) -> Tensor {
        guard let buffer else { return x }
        reorder(x, buffer, rows: rows, toHeads: true)
        return buffer
    }

    private var scale: Float { 1 / Float(headWidth).squareRoot() }

    public func forward(_ context: StepContext) {
        let n = context.batch, pairs = heads * n, (lf, lt, d) = (queries, keys, headWidth)
        let q = headMajor(inputs[0].value, split?.q, rows: n * lf), k = headMajor(inputs[1].value, split?.k, rows: n * lt)
        let v = headMajor(inputs[2].value, split?.v, rows: n * lt), p = probabilities
        backend.batchedGEMM(transA: false, transB: true, m: lf, n: lt, k: d, alpha: scale, a: q, strideA: lf * d, b: k,
                            strideB: lt * d, beta: 0, c: p, strideC: lf * lt, batchCount: pairs)
        if let mask {
            let m = inputs[3].value, perSample = mask.rows * lt
            backend.binary(.subtract, m, mask.one, into: mask.penalty, count: n * perSample, broadcast: .row(1))
            backend.unary(.scale(10_000), mask.penalty, into: mask.penalty, count: n * perSample)
            var penalty = mask.penalty
            if mask.rows == 1 {
                backend.reduceBackward(.sum, dy: mask.penalty, outer: n, axis: lf, inner: lt, into: mask.repeated)
                penalty = mask.repeated
            }
            backend.binary(.add, p, penalty, into: p, count: pairs * lf * lt, broadcast: .row(n * lf * lt))
        }
        backend.softmaxRows(p, rows: pairs * lf, width: lt, into: p)
        let o = split?.o ?? outputs[0].value
        backend.batchedGEMM(transA: false, transB: false, m: lf, n: d, k: lt, alpha: 1, a: p, strideA: lf * lt, b: v,
                            strideB: lt * d, beta: 0, c: o, strideC: lf * d, batchCount: pairs)
        if split != nil { reorder(outputs[0].value, o, rows: n * lf, toHeads: false) }
    }

    public func backward(_ context: StepContext) {
        let n = context.batch, pairs = heads * n, (lf, lt, d) = (queries, keys, headWidth)
        let q = split?.q ?? inputs[0].value, k = split?.k ?? inputs[1].value, v = split?.v ?? inputs[2].value
        let dO = headMajor(outputs[0].grad, split?.o, rows: n * lf), p = probabilities, dS = scoreGradient
        let dq = split?.dq ?? inputs[0].grad, dk = split?.dk ?? inputs[1].grad, dv = split?.dv ?? inputs[2].grad
        backend.batchedGEMM(transA: false, transB: true, m: lf, n: lt, k: d, alpha: 1, a: dO, strideA: lf * d, b: v,
                            strideB: lt * d, beta: 0, c: dS, strideC: lf * lt, batchCount: pairs)
        backend.batchedGEMM(transA: true, transB: false, m: lt, n: d, k: lf, alpha: 1, a: p, strideA: lf * lt, b: dO,
                            strideB: lf * d, beta: 0, c: dv, strideC: lt * d, batchCount: pairs)
        backend.softmaxRowsBackward(y: p, dy: dS, rows: pairs * lf, width: lt, into: dS)
        backend.batchedGEMM(transA: false, transB: false, m: lf, n: d, k: lt, alpha: scale, a: dS, strideA: lf * lt, b: k,
                            strideB: lt * d, beta: 0, c: dq, strideC: lf * d, batchCount: pairs)
        backend.batchedGEMM(transA: true, transB: false, m: lt, n: d, k: lf, alpha: scale, a: dS, strideA: lf * lt, b: q,
                            strideB: lf * d, beta: 0, c: dk, strideC: lt * d, batchCount: pairs)
        if let split {
            reorder(inputs[0].grad, split.dq, rows: n * lf, toHeads: false)
            reorder(inputs[1].grad, split.dk, rows: n * lt, toHeads: false)
            reorder(inputs[2].grad, split.dv, rows: n * lt, toHeads: false)
        }
        if mask != nil { backend.fill(inputs[3].grad.prefix([inputs[3].count(n)]), 0) }
    }

    // MARK: registry

    public static let layerType = LayerType.multiHeadAttention
    public static let parameterNames = ["num_attention_heads", "transpose_b"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        guard inputs.count == 3 || inputs.count == 4 else {
            throw check.error("expects the bottoms query, key, value and optionally a mask (3 or 4), found \(inputs.count). Fix bottom_names.")
        }
        try check.topCount(1)
        try check.positive(config.numAttentionHeads, "num_attention_heads")
        let (q, k, v) = (inputs[0], inputs[1], inputs[2]), heads = config.numAttentionHeads
        for x in [q, k, v] where x.shape.rank != 3 {
            throw check.error("query, key and value must be 3D (batch, sequence, width), found '\(x.name)' \(x.perSampleShape) per sample. Reshape them to (batch, sequence, width).")
        }
        guard inputs.allSatisfy({ $0.maxBatch == q.maxBatch && $0.rowsPerSample == 1 }) else {
            throw check.error("all bottoms must hold the same batch, found \(check.describeInputs()).")
        }
        guard k.shape[2] == q.shape[2] && v.shape[2] == q.shape[2] else {
            throw check.error("query, key and value must have the same width (last dimension), found \(check.describeInputs()).")
        }
        guard v.shape[1] == k.shape[1] else {
            throw check.error("key and value must have the same sequence length (dimension 1), found '\(k.name)' \(k.perSampleShape) and '\(v.name)' \(v.perSampleShape).")
        }
        guard q.shape[2] % heads == 0 else {
            throw check.error("num_attention_heads = \(heads) must divide the width \(q.shape[2]) of the query, key and value (each head takes width / heads columns). Set num_attention_heads to a divisor of \(q.shape[2]).")
        }
        if inputs.count == 4 {
            let m = inputs[3], lf = q.shape[1], lt = k.shape[1]
            guard m.shape.rank == 4, m.shape[1] == 1, m.shape[2] == lf || m.shape[2] == 1, m.shape[3] == lt else {
                throw check.error("the mask '\(m.name)' must be (batch, 1, \(lf), \(lt)) or (batch, 1, 1, \(lt)) for a query of \(lf) and keys of \(lt), found \(m.perSampleShape) per sample. Build it with SequenceMask (max_sequence_len_from = \(lf), max_sequence_len_to = \(lt)).")
            }
        }
        return MultiHeadAttention(name: config.name, query: q, key: k, value: v, mask: inputs.count == 4 ? inputs[3] : nil,
                                  heads: heads, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Attention per sample and head, in plain loops.
        func attention(queries lf: Int, keys lt: Int, width: Int, heads: Int, maskRows: Int? = nil) -> ConformanceCase {
            let d = width / heads
            let maskNote = maskRows.map { ", mask (1, \($0), \(lt))" } ?? ""
            let inputs = [ConformanceInput([lf, width]), ConformanceInput([lt, width]), ConformanceInput([lt, width])]
                + (maskRows.map { [ConformanceInput([1, $0, lt], values: .bernoulli(0.7), differentiable: false)] } ?? [])
            return ConformanceCase("MultiHeadAttention \(heads) head\(heads == 1 ? "" : "s"), Lf \(lf), Lt \(lt), D \(width)\(maskNote)",
                                   DenseLayer(.multiHeadAttention, bottomNames: ["q", "k", "v"] + (maskRows == nil ? [] : ["mask"]),
                                              topNames: ["attention"], numAttentionHeads: heads),
                                   inputs: inputs, batch: 3) { r in
                let (q, k, v) = (r.inputs[0], r.inputs[1], r.inputs[2])
                var o = [Double](repeating: 0, count: q.count)
                for b in 0..<r.batch {
                    for h in 0..<heads {
                        for t in 0..<lf {
                            let scores = (0..<lt).map { j in
                                let dot = (0..<d).reduce(0.0) { $0 + q[(b * lf + t) * width + h * d + $1] * k[(b * lt + j) * width + h * d + $1] }
                                let m = maskRows.map { rows in r.inputs[3][(b * rows + (rows == 1 ? 0 : t)) * lt + j] } ?? 1
                                return dot / Double(d).squareRoot() - 10_000 * (1 - m)
                            }
                            let p = ConformanceReference.softmax(scores)
                            for c in 0..<d {
                                o[(b * lf + t) * width + h * d + c] = (0..<lt).reduce(0.0) { $0 + p[$1] * v[(b * lt + $1) * width + h * d + c] }
                            }
                        }
                    }
                }
                return [o]
            }
        }
        return [
            attention(queries: 2, keys: 3, width: 4, heads: 1), attention(queries: 3, keys: 4, width: 6, heads: 2, maskRows: 3),
            attention(queries: 2, keys: 5, width: 8, heads: 4, maskRows: 1), attention(queries: 1, keys: 2, width: 3, heads: 3),
            attention(queries: 4, keys: 4, width: 2, heads: 1, maskRows: 4),
        ]
    }
}
