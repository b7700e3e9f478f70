import CTRCore

/// `MultiCross` with `projection_dim = k > 0` (DCN v2, low rank): for `num_layers` cross layers
/// over a 2D `(B, n)` input `x_0`, with `U_l` (n, k), `V_l` (k, n) and `b_l` (1, n),
///
///     H_l     = (x_l·U_l)·V_l + b_l
///     x_{l+1} = x_0 ⊙ H_l + x_l
///
/// Backward, with `G = dL/dx_{l+1}` from the last layer down: `S_0 = G ⊙ x_0`,
/// `S_1 = S_0·V_lᵀ`, `dV_l += (x_l·U_l)ᵀ·S_0`, `dU_l += x_lᵀ·S_1`, `db_l += Σ_rows S_0`,
/// `dL/dx_l = S_1·U_lᵀ + G`, and `dX = Σ_l G_l ⊙ H_l + dL/dx_0`. Composed from GEMMs and
/// element-wise primitives; `x_l·U_l`, `H_l` and every `x_l` are kept for backward. Cost: about
/// 12·B·n·k·L FLOPs per training step, plus a few passes over `(B, n)` per layer.
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
    let layers: Int, width: Int, rank: Int, maxRows: Int
    /// Per layer `x_l·U_l` (maxRows×k) and `H_l` (maxRows×n); `x_1 … x_{L−1}` (maxRows×n each).
    let projected: Tensor, hidden: Tensor, states: Tensor
    /// Backward scratch: `S_0` and `G_l ⊙ H_l` (maxRows×n), `S_1` (maxRows×k), the running `G` (maxRows×n).
    let s0: Tensor, direct: Tensor, s1: Tensor, g: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, layers: Int, projectionDim k: Int, weightInit: Initializer,
                 initializer: WeightInitializer, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.layers = layers
        rank = k
        let n = input.shape.last, rows = input.shape[0]
        width = n
        maxRows = rows
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        let weightDistribution: WeightInitializer.Distribution =
            weightInit == .zero ? .zero : .normal((2 / Float(n + k)).squareRoot())
        var params: [Variable] = []
        for l in 0..<layers {
            let u = Variable(name: "\(name).\(l).u", shape: [n, k], backend: backend)
            let v = Variable(name: "\(name).\(l).v", shape: [k, n], backend: backend)
            let b = Variable(name: "\(name).\(l).bias", shape: [1, n], backend: backend)
            for w in [u, v] {
                initializer.fill(w.value, weightDistribution, stream: WeightInitializer.stream(w.name), backend: backend)
            }
            params += [u, v, b]
        }
        parameters = params
        projected = backend.makeTensor([layers * rows, k], .float32)
        hidden = backend.makeTensor([layers * rows, n], .float32)
        states = backend.makeTensor([max(1, layers - 1) * rows, n], .float32)
        s0 = backend.makeTensor([rows, n], .float32)
        direct = backend.makeTensor([rows, n], .float32)
        s1 = backend.makeTensor([rows, k], .float32)
        g = backend.makeTensor([rows, n], .float32)
    }

    private func u(_ l: Int) -> Variable { parameters[3 * l] }
    private func v(_ l: Int) -> Variable { parameters[3 * l + 1] }
    private func b(_ l: Int) -> Variable { parameters[3 * l + 2] }
    private func projected(_ l: Int) -> Tensor { projected.view(from: l * maxRows * rank, [maxRows, rank]) }
    private func hidden(_ l: Int) -> Tensor { hidden.view(from: l * maxRows * width, [maxRows, width]) }
    /// `x_l`: the input for l = 0, the output for l = L, else a saved state.
    private func state(_ l: Int) -> Tensor {
        l == 0 ? inputs[0].value : l == layers ? outputs[0].value : states.view(from: (l - 1) * maxRows * width, [maxRows, width])
    }

    public func forward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), n = width, k = rank, x0 = inputs[0].value, count = rows * n
        for l in 0..<layers {
            let x = state(l), xu = projected(l), h = hidden(l), next = state(l + 1)
            backend.gemm(transA: false, transB: false, m: rows, n: k, k: n, alpha: 1, a: x, b: u(l).value, beta: 0, c: xu)
            backend.gemm(transA: false, transB: false, m: rows, n: n, k: k, alpha: 1, a: xu, b: v(l).value, beta: 0, c: h)
            backend.addBias(h, bias: b(l).value, rows: rows, cols: n)
            backend.binary(.multiply, x0, h, into: next, count: count)
            backend.binary(.add, next, x, into: next, count: count)
        }
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), n = width, k = rank, x0 = inputs[0].value, count = rows * n
        let dx = inputs[0].grad
        if layers > 1 { backend.copy(outputs[0].grad.view(from: 0, [count]), to: g) }
        for l in stride(from: layers - 1, through: 0, by: -1) {
            // G = dL/dx_{l+1}: the output's gradient for the last layer, else the running one.
            let grad = l == layers - 1 ? outputs[0].grad : g, last = l == layers - 1
            // One pass gives the direct term G ⊙ H_l (d/dx_0) and S_0 = G ⊙ x_0 (d/dH_l).
            backend.binaryBackward(.multiply, a: x0, b: hidden(l), dy: grad, da: last ? dx : direct, db: s0, count: count)
            if !last { backend.binary(.add, dx, direct, into: dx, count: count) }
            backend.sumRows(s0, rows: rows, cols: n, into: b(l).grad, accumulate: true)
            backend.gemm(transA: true, transB: false, m: k, n: n, k: rows, alpha: 1, a: projected(l), b: s0, beta: 1,
                         c: v(l).grad)
            backend.gemm(transA: false, transB: true, m: rows, n: k, k: n, alpha: 1, a: s0, b: v(l).value, beta: 0, c: s1)
            backend.gemm(transA: true, transB: false, m: n, n: k, k: rows, alpha: 1, a: state(l), b: s1, beta: 1,
                         c: u(l).grad)
            // dL/dx_l = S_1·U_lᵀ + G: into the running gradient, or for x_0 added to dX.
            if l > 0 {
                backend.gemm(transA: false, transB: true, m: rows, n: n, k: k, alpha: 1, a: s1, b: u(l).value, beta: 1, c: g)
            } else {
                backend.binary(.add, dx, grad, into: dx, count: count)
                backend.gemm(transA: false, transB: true, m: rows, n: n, k: k, alpha: 1, a: s1, b: u(l).value, beta: 1, c: dx)
            }
        }
    }

    /// The float64 reference and cases that `MultiCross.conformanceCases` adds for v2.
    static var conformanceCases: [ConformanceCase] {
        /// Per row: `x ← x_0 ⊙ ((x·U)·V + b) + x`; parameters are U_0, V_0, b_0, U_1, ….
        func multiCrossV2(_ layers: Int, width n: Int, projection k: Int) -> ConformanceCase {
            let config = DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: layers, projectionDim: k)
            return ConformanceCase("MultiCross v2 \(layers) layer\(layers == 1 ? "" : "s") of width \(n), projection \(k)",
                                   config, inputs: [ConformanceInput([n])], batch: 3, parameterStd: 0.3) { r in
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
                multiCrossV2(2, width: 4, projection: 6)]
    }
}
