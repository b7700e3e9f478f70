import CTRCore

/// `MultiCross` with `projection_dim = k > 0` (DCN v2, low rank): for `num_layers` cross layers
/// over a 2D `(B, n)` input `x_0`, with `U_l` (n, k), `V_l` (k, n) and `b_l` (1, n),
///
///     H_l     = (x_l·U_l)·V_l + b_l
///     x_{l+1} = x_0 ⊙ H_l + x_l
///
/// Backward, with `G = dL/dx_{l+1}` from the last layer down: `S_0 = G ⊙ x_0`,
/// `S_1 = S_0·V_lᵀ`, `dV_l += (x_l·U_l)ᵀ·S_0`, `dU_l += x_lᵀ·S_1`, `db_l += Σ_rows S_0`,
/// `dL/dx_l = S_1·U_lᵀ + G`, and `dX = Σ_l G_l ⊙ H_l + dL/dx_0`. Per layer two GEMMs forward and
/// four backward, with one fused pass each way between them (`lowRankCross`: bias, `x_0 ⊙ H_l`
/// and the residual; `lowRankCrossBackward`: `S_0`, the direct term of dX, the running G and the
/// bias gradient); the bias is added in those passes, so `H_l` is kept without it. Cost: about 12·B·n·k·L FLOPs per
/// training step, plus two passes over `(B, n)` per layer.
///
/// In mixed precision (`halfType`) every internal state — `x_0`'s copy, `x_l·U_l`, `H_l`,
/// `x_1 … x_{L−1}`, `S_0`, `S_1` and the running G — is stored in 16 bits, which the GEMMs read
/// and write directly (fp32 accumulation); dX, the weights and their gradients stay fp32, and the
/// output is written in fp32 unless only GEMMs read it (`outputType`).
///
/// When `n` is not a multiple of the backend's `gemmAlignment`, the layer runs at the padded width
/// `n̄` (n rounded up), so that the GEMMs keep their fast kernels: `x_0` goes through a zero-padded
/// copy, every state is `(B, n̄)`, `U_l` and `b_l` are views of the first rows of zero-padded
/// `(n̄, k)` and `(1, n̄)` storage (as InnerProduct's `W`), and `V_l` is copied into a `(k, n̄)` one
/// with zero columns each forward. The padded columns stay exactly zero: `H_l` is zero there (zero
/// columns of `V̄_l`, zero bias tail), so is `x_0 ⊙ H_l`, and backward's `S_0 = G ⊙ x_0` and
/// `S_1·Ūᵀ` are zero there too. The last layer writes only the first n columns of the output, and
/// dX and dV take the first n columns of their padded versions.
///
/// ```swift
/// model.add(DenseLayer(.multiCross, bottomNames: ["concat1"], topNames: ["multicross1"], numLayers: 3,
///                      projectionDim: 512))
/// ```
///
/// HugeCTR: `MultiCross` with `projection_dim > 0` (layer math §6.4). Its parameters are, per cross
/// layer, `U`, `V`, `b` (HugeCTR's declaration order). `U` and `V` start as N(0, √(2/(n+k))), or
/// zero with `weight_init_type = Zero`; every bias starts at zero (HugeCTR instead walks
/// `weight_init_type`/`bias_init_type` alternately over U, V, b, so `bias_init_type = Zero`
/// zeroes some of the U and V). The bias gradient accumulates like the others (HugeCTR assigns it).
public final class MultiCrossV2: Layer {
    public let name: String
    public let type = LayerType.multiCross
    public let inputs: [Variable]
    public let outputs: [Variable]
    /// U_0, V_0, b_0, U_1, V_1, b_1, ….
    public let parameters: [Variable]
    /// `width` is n, `paddedWidth` n̄ (n unless padded): the width of every internal `(rows, ·)` tensor.
    let layers: Int, width: Int, paddedWidth: Int, rank: Int, maxRows: Int
    /// Per layer `x_l·U_l` (maxRows×k) and `H_l` without bias (maxRows×n̄); `x_1 … x_{L−1}` (maxRows×n̄ each);
    /// `x_0`'s copy (maxRows×n̄) when padded or of another type than the state. All in the state type.
    let projected: Tensor, hidden: Tensor, states: Tensor, x0Copy: Tensor?
    /// Backward scratch: `S_0` (maxRows×n̄), `S_1` (maxRows×k) and the running `G` (maxRows×n̄) in the
    /// state type, the bias gradient's partial sums (fp32), and when padded dX at width n̄ (fp32).
    let s0: Tensor, s1: Tensor, g: Tensor, biasPartial: Tensor, dxPadded: Tensor?
    /// The input as a Concat's shared operand: `x0Copy` and `dxPadded` are its value and gradient,
    /// written by the Concat forward and added into (or, for the first backward, written) here.
    let shared: SharedOperand.Use?
    /// Only when padded: per layer `U_l`, `dU_l` (n̄×k), `b_l`, `db_l` (1×n̄) whose first rows are the
    /// parameters (fp32), `V̄_l` (k×n̄, state type) and `dV̄_l` scratch (k×n̄, fp32).
    let padded: Padded?
    struct Padded {
        let u: Tensor, du: Tensor, bias: Tensor, dbias: Tensor, v: Tensor, dv: Tensor
    }
    let backend: any Backend

    /// `alignment` overrides the backend's `gemmAlignment` (tests use it to exercise the padded path
    /// on a CPU); `halfType` is mixed precision's 16-bit type for the internal states, `outputType`
    /// the output's and its gradient's (16-bit when only GEMMs read the output); `shared` a Concat's
    /// shared operand to read the input from.
    package init(name: String, input: Variable, layers: Int, projectionDim k: Int, weightInit: Initializer,
                 initializer: WeightInitializer, backend: any Backend, alignment: Int? = nil, halfType: DType? = nil,
                 outputType: DType = .float32, shared: SharedOperand.Use? = nil) {
        self.name = name
        self.shared = shared
        self.backend = backend
        self.layers = layers
        rank = k
        let n = input.shape.last, rows = input.shape[0], state = halfType ?? .float32
        width = n
        maxRows = rows
        let align = alignment ?? backend.gemmAlignment
        let np = align > 1 && n % align != 0 ? (n + align - 1) / align * align : n
        paddedWidth = np
        padded = np == n ? nil : Padded(
            u: backend.makeTensor([layers * np, k], .float32), du: backend.makeTensor([layers * np, k], .float32),
            bias: backend.makeTensor([layers, np], .float32), dbias: backend.makeTensor([layers, np], .float32),
            v: backend.makeTensor([layers * k, np], state), dv: backend.makeTensor([k, np], .float32))
        if let operand = shared?.operand {
            precondition(operand.width == n && operand.paddedWidth == np && operand.value.dtype == state,
                         "a shared operand has the layer's width, padding and state type")
            x0Copy = operand.value
            dxPadded = operand.grad
        } else {
            x0Copy = np != n || input.value.dtype != state ? backend.makeTensor([rows, np], state) : nil
            dxPadded = np != n ? backend.makeTensor([rows, np], .float32) : nil
        }
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample,
                            valueType: outputType, gradType: outputType)]
        let weightDistribution: WeightInitializer.Distribution =
            weightInit == .zero ? .zero : .normal((2 / Float(n + k)).squareRoot())
        var params: [Variable] = []
        for l in 0..<layers {
            let u: Variable, b: Variable
            if let p = padded {
                u = Variable(name: "\(name).\(l).u", value: p.u.view(from: l * np * k, [n, k]),
                             grad: p.du.view(from: l * np * k, [n, k]))
                b = Variable(name: "\(name).\(l).bias", value: p.bias.view(from: l * np, [1, n]),
                             grad: p.dbias.view(from: l * np, [1, n]))
            } else {
                u = Variable(name: "\(name).\(l).u", shape: [n, k], backend: backend)
                b = Variable(name: "\(name).\(l).bias", shape: [1, n], backend: backend)
            }
            let v = Variable(name: "\(name).\(l).v", shape: [k, n], backend: backend)
            for w in [u, v] {
                initializer.fill(w.value, weightDistribution, stream: WeightInitializer.stream(w.name), backend: backend)
            }
            params += [u, v, b]
        }
        parameters = params
        projected = backend.makeTensor([layers * rows, k], state)
        hidden = backend.makeTensor([layers * rows, np], state)
        states = backend.makeTensor([max(1, layers - 1) * rows, np], state)
        s0 = backend.makeTensor([rows, np], state)
        s1 = backend.makeTensor([rows, k], state)
        g = backend.makeTensor([layers > 1 ? rows : 1, np], state)
        biasPartial = backend.makeTensor([columnSumPartialRows, np], .float32)
    }

    private func u(_ l: Int) -> Variable { parameters[3 * l] }
    private func v(_ l: Int) -> Variable { parameters[3 * l + 1] }
    private func b(_ l: Int) -> Variable { parameters[3 * l + 2] }
    private func projected(_ l: Int) -> Tensor { projected.view(from: l * maxRows * rank, [maxRows, rank]) }
    private func hidden(_ l: Int) -> Tensor { hidden.view(from: l * maxRows * paddedWidth, [maxRows, paddedWidth]) }
    /// `x_l` for l < L: the input (or its copy) for l = 0, else a saved state.
    private func state(_ l: Int) -> Tensor {
        if l == 0 { return x0Copy ?? inputs[0].value }
        return states.view(from: (l - 1) * maxRows * paddedWidth, [maxRows, paddedWidth])
    }
    /// The GEMM operands `U_l` (n̄×k), `V_l` (k×n̄), `b_l` (1×n̄), and the gradients `dU_l`, `db_l` at those shapes.
    private func uValue(_ l: Int) -> Tensor { padded.map { $0.u.view(from: l * paddedWidth * rank, [paddedWidth, rank]) } ?? u(l).value }
    private func uGrad(_ l: Int) -> Tensor { padded.map { $0.du.view(from: l * paddedWidth * rank, [paddedWidth, rank]) } ?? u(l).grad }
    private func vValue(_ l: Int) -> Tensor { padded.map { $0.v.view(from: l * rank * paddedWidth, [rank, paddedWidth]) } ?? v(l).value }
    private func bValue(_ l: Int) -> Tensor { padded.map { $0.bias.view(from: l * paddedWidth, [1, paddedWidth]) } ?? b(l).value }
    private func bGrad(_ l: Int) -> Tensor { padded.map { $0.dbias.view(from: l * paddedWidth, [1, paddedWidth]) } ?? b(l).grad }

    public func forward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), n = paddedWidth, k = rank
        if let x0 = x0Copy, shared == nil {
            // Only the first `width` columns are written: the tails of x̄_0 and V̄_l stay zero.
            backend.copyColumns(inputs[0].value, srcWidth: width, srcStart: 0, into: x0, dstWidth: n, dstStart: 0,
                                rows: rows, width: width, accumulate: false)
        }
        if padded != nil {
            for l in 0..<layers {
                backend.copyColumns(v(l).value, srcWidth: width, srcStart: 0, into: vValue(l), dstWidth: n, dstStart: 0,
                                    rows: k, width: width, accumulate: false)
            }
        }
        for l in 0..<layers {
            let x = state(l), xu = projected(l), h = hidden(l), last = l == layers - 1
            backend.gemm(transA: false, transB: false, m: rows, n: k, k: n, alpha: 1, a: x, b: uValue(l), beta: 0, c: xu)
            backend.gemm(transA: false, transB: false, m: rows, n: n, k: k, alpha: 1, a: xu, b: vValue(l), beta: 0, c: h)
            backend.lowRankCross(x0: state(0), h: h, bias: bValue(l), x: x, rows: rows, width: n,
                                 into: last ? outputs[0].value : state(l + 1), outWidth: last ? width : n)
        }
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), n = paddedWidth, k = rank
        let dx = dxPadded ?? inputs[0].grad
        for l in stride(from: layers - 1, through: 0, by: -1) {
            // G = dL/dx_{l+1}: the output's gradient (width n) for the last layer, else the running one,
            // which the last layer's pass starts as a copy of G.
            let last = l == layers - 1
            backend.lowRankCrossBackward(g: last ? outputs[0].grad : g, gWidth: last ? width : n, x0: state(0),
                                         h: hidden(l), bias: bValue(l), rows: rows, width: n, s0: s0, dx: dx,
                                         accumulate: !last || shared?.addsGradient == true, addG: l == 0, gCopy: last && layers > 1 ? g : nil,
                                         biasGrad: bGrad(l), partial: biasPartial)
            if let p = padded {
                backend.gemm(transA: true, transB: false, m: k, n: n, k: rows, alpha: 1, a: projected(l), b: s0, beta: 0,
                             c: p.dv)
                backend.copyColumns(p.dv, srcWidth: n, srcStart: 0, into: v(l).grad, dstWidth: width, dstStart: 0,
                                    rows: k, width: width, accumulate: true)
            } else {
                backend.gemm(transA: true, transB: false, m: k, n: n, k: rows, alpha: 1, a: projected(l), b: s0, beta: 1,
                             c: v(l).grad)
            }
            backend.gemm(transA: false, transB: true, m: rows, n: k, k: n, alpha: 1, a: s0, b: vValue(l), beta: 0, c: s1)
            backend.gemm(transA: true, transB: false, m: n, n: k, k: rows, alpha: 1, a: state(l), b: s1, beta: 1,
                         c: uGrad(l))
            // dL/dx_l = S_1·U_lᵀ + G: into the running gradient, or for x_0 into dX (which holds G already).
            backend.gemm(transA: false, transB: true, m: rows, n: n, k: k, alpha: 1, a: s1, b: uValue(l), beta: 1,
                         c: l > 0 ? g : dx)
        }
        if let dxPadded, shared == nil {
            backend.copyColumns(dxPadded, srcWidth: n, srcStart: 0, into: inputs[0].grad, dstWidth: width, dstStart: 0,
                                rows: rows, width: width, accumulate: false)
        }
    }

    /// The float64 reference and cases that `MultiCross.conformanceCases` adds for v2.
    static var conformanceCases: [ConformanceCase] {
        /// Per row: `x ← x_0 ⊙ ((x·U)·V + b) + x`; parameters are U_0, V_0, b_0, U_1, ….
        func multiCrossV2(_ layers: Int, width n: Int, projection k: Int, alignment: Int? = nil) -> ConformanceCase {
            let config = DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: layers, projectionDim: k)
            let padding = alignment.map { ", padded to a multiple of \($0)" } ?? ""
            return ConformanceCase("MultiCross v2 \(layers) layer\(layers == 1 ? "" : "s") of width \(n), projection \(k)\(padding)",
                                   config, inputs: [ConformanceInput([n])], batch: 3, gemmAlignment: alignment,
                                   parameterStd: 0.3) { r in
                let x0 = r.inputs[0]
                return [(0..<r.batch).flatMap { row in
                    let first = Array(x0[row * n..<(row + 1) * n])
                    var x = first
                    for l in 0..<layers {
                        let u = r.parameters[3 * l], v = r.parameters[3 * l + 1], b = r.parameters[3 * l + 2]
                        let xu = (0..<k).map { j in (0..<n).reduce(0) { $0 + x[$1] * u[$1 * k + j] } }
                        let h = (0..<n).map { i in (0..<k).reduce(b[i]) { $0 + xu[$1] * v[$1 * n + i] } }
                        x = (0..<n).map { first[$0] * h[$0] + x[$0] }
                    }
                    return x
                }]
            }
        }
        return [multiCrossV2(1, width: 5, projection: 2), multiCrossV2(3, width: 7, projection: 3),
                multiCrossV2(2, width: 4, projection: 6), multiCrossV2(3, width: 13, projection: 4, alignment: 8)]
    }
}
