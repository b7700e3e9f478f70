import CTRCore

/// `FmOrder2`: the second-order factorization machine over S field vectors of length V = `out_dim`
/// held side by side in a 2D `(B, S·V)` input (`x[b, s·V + k]` is element k of field s):
/// `y[b, k] = ½·((Σ_s x[b, s, k])² − Σ_s x[b, s, k]²)`, the sum of all pairwise products
/// `Σ_{s<s′} x[b, s, k]·x[b, s′, k]`. Backward: `dx[b, s, k] = dy[b, k]·(Σ_{s′} x[b, s′, k] − x[b, s, k])`.
/// Cost: composed from reductions and element-wise ops, about 4 passes over the input forward and
/// 8 backward.
///
/// ```swift
/// model.add(DenseLayer(.fmOrder2, bottomNames: ["slice32"], topNames: ["fmorder2"], outDim: 10))
/// ```
///
/// HugeCTR: `FmOrder2` (layer math §6.5). `out_dim` (default 0) must be ≥ 1; HugeCTR divides by it
/// before checking. HugeCTR's limit V ≤ 1024 (one CUDA block per sample) does not apply.
public final class FmOrder2: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    let fields: Int, width: Int
    /// Per row: the field sum `Σ_s x` (kept for backward) and a scratch row; scratch of the input's size.
    let fieldSum: Tensor, rowScratch: Tensor, scratch: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, outDim: Int, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [input]
        width = outDim
        fields = input.shape[1] / outDim
        let rows = input.shape[0]
        outputs = [Variable(name: name, shape: [rows, outDim], backend: backend, rowsPerSample: input.rowsPerSample)]
        fieldSum = backend.makeTensor([rows, outDim], .float32)
        rowScratch = backend.makeTensor([rows, outDim], .float32)
        scratch = backend.makeTensor(input.shape, .float32)
    }

    public func forward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), x = inputs[0].value, y = outputs[0].value
        let n = rows * fields * width, m = rows * width
        backend.reduce(.sum, x, outer: rows, axis: fields, inner: width, into: fieldSum)
        backend.unary(.square, x, into: scratch, count: n)
        backend.reduce(.sum, scratch, outer: rows, axis: fields, inner: width, into: rowScratch)
        backend.unary(.square, fieldSum, into: y, count: m)
        backend.binary(.subtract, y, rowScratch, into: y, count: m)
        backend.unary(.scale(0.5), y, into: y, count: m)
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), dy = outputs[0].grad, dx = inputs[0].grad
        let n = rows * fields * width, m = rows * width
        backend.multiply(dy, fieldSum, into: rowScratch, count: m)
        backend.reduceBackward(.sum, dy: rowScratch, outer: rows, axis: fields, inner: width, into: dx)
        backend.reduceBackward(.sum, dy: dy, outer: rows, axis: fields, inner: width, into: scratch)
        backend.multiply(scratch, inputs[0].value, into: scratch, count: n)
        backend.binary(.subtract, dx, scratch, into: dx, count: n)
    }

    // MARK: registry

    public static let layerType = LayerType.fmOrder2
    public static let parameterNames = ["out_dim"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.rank(in: [2])
        try check.positive(config.outDim, "out_dim")
        let input = inputs[0], width = input.shape[1]
        guard width % config.outDim == 0 else {
            throw check.error("out_dim = \(config.outDim) must divide the width \(width) of '\(input.name)' (fields × out_dim, one vector of out_dim per field). Set out_dim to the embedding vector size.")
        }
        return FmOrder2(name: config.name, input: input, outDim: config.outDim, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Per row of `fields·outDim`: the pairwise products of the fields, element by element.
        func fmOrder2(fields: Int, outDim: Int, rowsPerSample: Int = 1) -> ConformanceCase {
            let w = fields * outDim
            let rowsNote = ConformanceInput.rowsNote(rowsPerSample)
            return ConformanceCase("FmOrder2 \(fields) field\(fields == 1 ? "" : "s") of \(outDim)\(rowsNote)",
                                   DenseLayer(.fmOrder2, bottomNames: ["x"], topNames: ["fm"], outDim: outDim),
                                   inputs: [ConformanceInput([w], rowsPerSample: rowsPerSample)], batch: 3) { r in
                let x = r.inputs[0]
                return [(0..<x.count / w).flatMap { row in
                    (0..<outDim).map { k in
                        var y = 0.0
                        for s in 0..<fields { for t in s + 1..<fields { y += x[row * w + s * outDim + k] * x[row * w + t * outDim + k] } }
                        return y
                    }
                }]
            }
        }
        return [fmOrder2(fields: 3, outDim: 4), fmOrder2(fields: 5, outDim: 2, rowsPerSample: 2), fmOrder2(fields: 1, outDim: 3)]
    }
}
