import CTRCore

/// `MultiCross` (DCN v1): `x_{l+1} = x_0·⟨x_l, w_l⟩ + x_l + b_l` for `num_layers` layers over a
/// 2D `(B, n)` input.
///
/// Every `x_l` is `x_0·H_l + B_l` with a per-row scalar `H_l` and the bias prefix sum
/// `B_l = Σ_{j<l} b_j`, because each layer only rescales `x_0` and adds a bias. So with
/// `d_l = ⟨x_0, w_l⟩` (one GEMM `X_0·Wᵀ`) and `c_l = ⟨B_l, w_l⟩`, `H_{l+1} = H_l·(1 + d_l) + c_l` and
/// the output is `x_0·H_L + B_L`: the whole network reads `x_0` twice and writes once, instead of
/// three passes per layer. Backward follows the same scalars back, with `dW += Eᵀ·X_0` and
/// `dX_0 = g·H_L + E·W` as GEMMs (`E[r, l] = dL/dd_l`). Cost: about 8·B·n·L FLOPs per step.
///
/// ```swift
/// model.add(DenseLayer(.multiCross, bottomNames: ["concat1"], topNames: ["multicross1"], numLayers: 6))
/// ```
///
/// HugeCTR: `MultiCross` with `projection_dim = 0`; `projection_dim > 0` builds DCN v2's low-rank
/// cross network, `MultiCrossV2`. Weights start as N(0, 1/n) (Zero with `weight_init_type = Zero`);
/// every bias starts at zero whatever `bias_init_type` says, as in HugeCTR, so that key is not read.
public final class MultiCross: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    /// w_0, b_0, w_1, b_1, …: views of the rows of `weights` and `biases` (and of their gradients).
    public let parameters: [Variable]
    let layers: Int, width: Int
    let weights: Variable, biases: Variable
    /// Per-row scalars: d (rows × L), H (rows × (L+1)), s (rows), e and upstream (rows × L).
    let d: Tensor, h: Tensor, s: Tensor, e: Tensor, upstream: Tensor
    /// Bias prefix sums ((L+1) × n), c (L), column sums of upstream (L), column sums of g (n).
    let prefix: Tensor, c: Tensor, upstreamSums: Tensor, gradientSums: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, layers: Int, weightInit: Initializer,
                initializer: WeightInitializer, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.layers = layers
        width = input.shape.last
        inputs = [input]
        let rows = input.shape[0]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        let n = input.shape.last
        let weights = Variable(name: name + ".weights", shape: [layers, n], backend: backend)
        let biases = Variable(name: name + ".biases", shape: [layers, n], backend: backend)
        self.weights = weights
        self.biases = biases
        var params: [Variable] = []
        for l in 0..<layers {
            func row(_ v: Variable, _ suffix: String) -> Variable {
                Variable(name: "\(name).\(l).\(suffix)", value: v.value.view(from: l * n, [1, n]),
                         grad: v.grad.view(from: l * n, [1, n]))
            }
            let w = row(weights, "weight"), b = row(biases, "bias")
            let wDist: WeightInitializer.Distribution = weightInit == .zero ? .zero : .normal((1 / Float(n)).squareRoot())
            initializer.fill(w.value, wDist, stream: WeightInitializer.stream(w.name), backend: backend)
            params += [w, b]
        }
        parameters = params
        d = backend.makeTensor([rows, layers], .float32)
        h = backend.makeTensor([rows, layers + 1], .float32)
        s = backend.makeTensor([rows], .float32)
        e = backend.makeTensor([rows, layers], .float32)
        upstream = backend.makeTensor([rows, layers], .float32)
        prefix = backend.makeTensor([layers + 1, width], .float32)
        c = backend.makeTensor([layers], .float32)
        upstreamSums = backend.makeTensor([layers], .float32)
        gradientSums = backend.makeTensor([width], .float32)
    }

    public func forward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), x0 = inputs[0].value, n = width, count = layers
        backend.prefixSumRows(biases.value, rows: count, width: n, into: prefix)
        backend.rowDot(prefix, weights.value, rows: count, width: n, into: c)
        backend.gemm(transA: false, transB: true, m: rows, n: count, k: n, alpha: 1, a: x0, b: weights.value, beta: 0, c: d)
        backend.crossScalars(d: d, c: c, rows: rows, layers: count, into: h)
        backend.scaleRows(x0, scales: h, stride: count + 1, offset: count, bias: prefix.view(from: count * n, [n]),
                          rows: rows, width: n, into: outputs[0].value)
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), x0 = inputs[0].value, g = outputs[0].grad, n = width, count = layers
        backend.rowDot(g, x0, rows: rows, width: n, into: s)
        backend.crossScalarsBackward(d: d, h: h, s: s, rows: rows, layers: count, e: e, upstream: upstream)
        backend.sumRows(upstream, rows: rows, cols: count, into: upstreamSums, accumulate: false)
        backend.crossInputGradient(g: g, h: h, e: e, weights: weights.value, rows: rows, layers: count, width: n,
                                   into: inputs[0].grad)
        backend.gemm(transA: true, transB: false, m: count, n: n, k: rows, alpha: 1, a: e, b: x0, beta: 1,
                     c: weights.grad)
        backend.addScaledRows(prefix, scales: upstreamSums, rows: count, width: n, into: weights.grad)
        backend.sumRows(g, rows: rows, cols: n, into: gradientSums, accumulate: false)
        backend.crossBiasGradients(g: gradientSums, c: upstreamSums, weights: weights.value, layers: count, width: n,
                                   into: biases.grad)
    }

    // MARK: registry

    public static let layerType = LayerType.multiCross
    public static let parameterNames = ["num_layers", "weight_init_type", "projection_dim"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.rank(in: [2])
        try check.positive(config.numLayers, "num_layers")
        guard config.projectionDim >= 0 else {
            throw check.error("projection_dim must be 0 (DCN v1) or the rank k ≥ 1 of DCN v2's U (n, k) and V (k, n), found \(config.projectionDim). Set projection_dim.")
        }
        if config.projectionDim > 0 {
            return MultiCrossV2(name: config.name, input: inputs[0], layers: config.numLayers, projectionDim: config.projectionDim,
                                weightInit: config.weightInitType, initializer: context.initializer, backend: context.backend,
                                alignment: context.gemmAlignment, halfType: context.halfType,
                                outputType: context.outputType, shared: context.sharedInput)
        }
        return MultiCross(name: config.name, input: inputs[0], layers: config.numLayers, weightInit: config.weightInitType,
                          initializer: context.initializer, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// `x_{l+1} = x_0·⟨x_l, w_l⟩ + x_l + b_l` per row; parameters are w_0, b_0, w_1, b_1, ….
        func multiCross(_ layers: Int, width: Int) -> ConformanceCase {
            ConformanceCase("MultiCross \(layers) layer\(layers == 1 ? "" : "s") of width \(width)",
                            DenseLayer(.multiCross, bottomNames: ["x"], topNames: ["cross"], numLayers: layers),
                            inputs: [ConformanceInput([width])], batch: 3, parameterStd: 0.3) { r in
                let x0 = r.inputs[0]
                return [(0..<r.batch).flatMap { row in
                    let first = Array(x0[row * width..<(row + 1) * width])
                    var x = first
                    for l in 0..<layers {
                        let w = r.parameters[2 * l], b = r.parameters[2 * l + 1]
                        let dot = (0..<width).reduce(0) { $0 + x[$1] * w[$1] }
                        x = (0..<width).map { first[$0] * dot + x[$0] + b[$0] }
                    }
                    return x
                }]
            }
        }
        return [multiCross(1, width: 5), multiCross(3, width: 7)] + MultiCrossV2.conformanceCases
    }
}
