import CTRCore

/// `InnerProduct` (fully connected): `Y = X·W + b` over the rows of a 2D `(B, in)` or 3D
/// `(B, S, in)` input, `W` (in, out), `b` (1, out). Backward: `dX = dY·Wᵀ`, `dW += Xᵀ·dY`,
/// `db += Σ_rows dY`. Cost: 6·rows·in·out FLOPs per training step.
///
/// With several inputs the layer reads their concatenation along the last axis without building
/// it: `[X₁ X₂]·W = X₁·W₁ + X₂·W₂` for the row blocks `W₁`, `W₂` of `W` (a Concat read only by an
/// InnerProduct is folded in this way). An input whose width is not a multiple of the backend's
/// `gemmAlignment` goes through a zero-padded copy, so that the GEMMs keep their fast kernels.
public final class InnerProduct: Layer {
    public let name: String
    public let type = LayerType.innerProduct
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let parameters: [Variable]
    public let inFeatures: Int, outFeatures: Int
    /// When true, forward leaves the bias out of the output, because the only layer reading it (a
    /// fused ReLU+Dropout) adds it in its own pass. The bias gradient is unchanged.
    public var biasAddedByConsumer = false
    let backend: any Backend

    /// One input: its width, its first row of `W`, and its padded width and copies when padded.
    struct Part {
        let width: Int, row: Int, paddedWidth: Int
        let padded: Tensor?
    }
    let parts: [Part]
    /// `W` with zero rows after the last input's padding (the parameter is a view of its first rows).
    let weightStorage: Tensor, weightGradStorage: Tensor
    /// Scratch for a padded input's gradient.
    let paddedGrad: Tensor?

    public convenience init(name: String, input: Variable, outputs count: Int, weightInit: Initializer, biasInit: Initializer,
                            initializer: WeightInitializer, backend: any Backend) {
        self.init(name: name, inputs: [input], outputs: count, weightInit: weightInit, biasInit: biasInit,
                  initializer: initializer, backend: backend)
    }

    /// Inputs of equal leading shape, read as their concatenation along the last axis; `alignment`
    /// overrides the backend's `gemmAlignment` (tests use it to exercise the padded path on a CPU).
    /// In mixed precision `halfType` is the 16-bit type of the padded copies and, when a fused
    /// ReLU+Dropout that adds the bias reads the output, `outputType` is the type of the output and
    /// of its gradient (the bias pass works on fp32 outputs only).
    public init(name: String, inputs: [Variable], outputs count: Int, weightInit: Initializer, biasInit: Initializer,
                initializer: WeightInitializer, backend: any Backend, alignment: Int? = nil,
                halfType: DType? = nil, outputType: DType = .float32) {
        self.name = name
        self.backend = backend
        self.inputs = inputs
        outFeatures = count
        let align = alignment ?? backend.gemmAlignment
        let maxRows = inputs[0].count(inputs[0].maxBatch) / inputs[0].shape.last
        var parts: [Part] = [], row = 0
        for input in inputs {
            let width = input.shape.last
            let pad = align > 1 && count >= 16 && width % align != 0
            let paddedWidth = pad ? (width + align - 1) / align * align : width
            parts.append(Part(width: width, row: row, paddedWidth: paddedWidth,
                              padded: pad ? backend.makeTensor([maxRows, paddedWidth], halfType ?? .float32) : nil))
            row += width
        }
        self.parts = parts
        inFeatures = row
        let storageRows = parts.map { $0.row + $0.paddedWidth }.max()!
        weightStorage = backend.makeTensor([storageRows, count], .float32)
        weightGradStorage = backend.makeTensor([storageRows, count], .float32)
        let widest = parts.filter { $0.padded != nil }.map(\.paddedWidth).max()
        paddedGrad = widest.map { backend.makeTensor([maxRows, $0], .float32) }
        var dims = inputs[0].shape.dims
        dims[dims.count - 1] = count
        outputs = [Variable(name: name, shape: Shape(dims), backend: backend, rowsPerSample: inputs[0].rowsPerSample,
                            valueType: outputType, gradType: outputType)]
        let weight = Variable(name: name + ".weight", value: weightStorage.view(from: 0, [inFeatures, count]),
                              grad: weightGradStorage.view(from: 0, [inFeatures, count]))
        let bias = Variable(name: name + ".bias", shape: [1, count], backend: backend)
        initializer.fill(weight.value, innerProductDistribution(weightInit, isBias: false, inputs: inFeatures, outputs: count),
                         stream: WeightInitializer.stream(weight.name), backend: backend)
        initializer.fill(bias.value, innerProductDistribution(biasInit, isBias: true, inputs: inFeatures, outputs: count),
                         stream: WeightInitializer.stream(bias.name), backend: backend)
        parameters = [weight, bias]
    }

    private func rows(_ context: StepContext) -> Int { inputs[0].count(context.batch) / parts[0].width }

    /// The GEMM operand of input `i` (its padded copy when it has one) and its rows of `W`
    /// (padding rows multiply zero columns, so they may belong to the next input).
    private func operands(_ i: Int) -> (x: Tensor, k: Int, w: Tensor, dw: Tensor) {
        let part = parts[i], k = part.paddedWidth, offset = part.row * outFeatures
        return (part.padded ?? inputs[i].value, k, weightStorage.view(from: offset, [k, outFeatures]),
                weightGradStorage.view(from: offset, [k, outFeatures]))
    }

    public func forward(_ context: StepContext) {
        let m = rows(context)
        for (i, part) in parts.enumerated() {
            if let padded = part.padded {
                backend.copyColumns(inputs[i].value, srcWidth: part.width, srcStart: 0, into: padded,
                                    dstWidth: part.paddedWidth, dstStart: 0, rows: m, width: part.width, accumulate: false)
            }
            let op = operands(i)
            backend.gemm(transA: false, transB: false, m: m, n: outFeatures, k: op.k, alpha: 1, a: op.x, b: op.w,
                         beta: i == 0 ? 0 : 1, c: outputs[0].value)
        }
        if !biasAddedByConsumer {
            backend.addBias(outputs[0].value, bias: parameters[1].value, rows: m, cols: outFeatures)
        }
    }

    public func backward(_ context: StepContext) {
        let m = rows(context), dy = outputs[0].grad
        backend.sumRows(dy, rows: m, cols: outFeatures, into: parameters[1].grad, accumulate: true)
        for (i, part) in parts.enumerated() {
            let op = operands(i)
            backend.gemm(transA: true, transB: false, m: op.k, n: outFeatures, k: m, alpha: 1, a: op.x, b: dy, beta: 1,
                         c: op.dw)
            let dx = part.padded == nil ? inputs[i].grad : paddedGrad!
            backend.gemm(transA: false, transB: true, m: m, n: op.k, k: outFeatures, alpha: 1, a: dy, b: op.w, beta: 0,
                         c: dx)
            if part.padded != nil {
                backend.copyColumns(dx, srcWidth: part.paddedWidth, srcStart: 0, into: inputs[i].grad, dstWidth: part.width,
                                    dstStart: 0, rows: m, width: part.width, accumulate: false)
            }
        }
    }
}

/// `MultiCross` (DCN v1): `x_{l+1} = x_0·⟨x_l, w_l⟩ + x_l + b_l` for `num_layers` layers over a
/// 2D `(B, n)` input.
///
/// Every `x_l` is `x_0·H_l + B_l` with a per-row scalar `H_l` and the bias prefix sum
/// `B_l = Σ_{j<l} b_j`, because each layer only rescales `x_0` and adds a bias. So with
/// `d_l = ⟨x_0, w_l⟩` (one GEMM `X_0·Wᵀ`) and `c_l = ⟨B_l, w_l⟩`, `H_{l+1} = H_l·(1 + d_l) + c_l` and
/// the output is `x_0·H_L + B_L`: the whole network reads `x_0` twice and writes once, instead of
/// three passes per layer. Backward follows the same scalars back, with `dW += Eᵀ·X_0` and
/// `dX_0 = g·H_L + E·W` as GEMMs (`E[r, l] = dL/dd_l`). Cost: about 8·B·n·L FLOPs per step.
public final class MultiCross: Layer {
    public let name: String
    public let type = LayerType.multiCross
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

    public init(name: String, input: Variable, layers: Int, weightInit: Initializer, biasInit: Initializer,
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
        _ = biasInit  // every cross bias starts at zero whatever the type (HugeCTR's Default is Zero)
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
}

/// `Interaction` (DLRM dot interaction): inputs `x0 (B, w)` and `E (B, F, w)`; output
/// `(B, w + n(n−1)/2 + 1)`, n = F+1: x0, then the pairwise dot products of {x0, E_1…E_F} in
/// lower-triangle order, then one zero. Cost: B·n²·w FLOPs forward.
public final class Interaction: Layer {
    public let name: String
    public let type = LayerType.interaction
    public let inputs: [Variable]
    public let outputs: [Variable]
    let features: Int, width: Int
    let backend: any Backend

    public init(name: String, dense: Variable, embeddings: Variable, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [dense, embeddings]
        features = embeddings.shape[1]
        width = embeddings.shape[2]
        let n = features + 1
        outputs = [Variable(name: name, shape: [dense.shape[0], width + n * (n - 1) / 2 + 1], backend: backend,
                            rowsPerSample: dense.rowsPerSample)]
    }

    public func forward(_ context: StepContext) {
        backend.interaction(x0: inputs[0].value, emb: inputs[1].value, into: outputs[0].value,
                            batch: inputs[0].rows(context.batch), features: features, width: width)
    }

    public func backward(_ context: StepContext) {
        backend.interactionBackward(x0: inputs[0].value, emb: inputs[1].value, dy: outputs[0].grad,
                                    dx0: inputs[0].grad, demb: inputs[1].grad,
                                    batch: inputs[0].rows(context.batch), features: features, width: width)
    }
}

/// `BinaryCrossEntropyLoss` with the sigmoid fused: inputs `[logits (B, 1), label (B, 1)]`.
/// Training writes `dL/dlogit = (σ(x) − y)·scaler/B` into the logits' gradient; evaluation writes
/// the probabilities σ(x) into `predictions`.
public final class BinaryCrossEntropyLoss: Loss {
    public let name: String
    public let type = LayerType.binaryCrossEntropyLoss
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let predictions: Tensor
    public var scaler: Float = 1
    public let lossValue: Tensor
    public var label: Variable { inputs[1] }
    let backend: any Backend

    /// The mean loss of the last forward (waits for the device).
    public var loss: Float { backend.floats(lossValue)[0] }

    public init(name: String, logits: Variable, label: Variable, backend: any Backend) {
        self.name = name
        self.backend = backend
        inputs = [logits, label]
        outputs = [Variable(name: name, shape: [1, 1], backend: backend)]
        predictions = backend.makeTensor(logits.shape, .float32)
        lossValue = backend.makeTensor([1], .float32)
    }

    public func forward(_ context: StepContext) {
        let batch = context.batch
        backend.binaryCrossEntropy(logits: inputs[0].value, labels: inputs[1].value, grad: inputs[0].grad,
                                   count: batch, rows: batch, gradScale: scaler / Float(max(batch, 1)), loss: lossValue)
        if !context.training {
            backend.sigmoid(inputs[0].value, into: predictions, count: batch)
        }
    }

    public func backward(_ context: StepContext) {}
}
