import CTRCore

/// `InnerProduct` (fully connected): `Y = X·W + b` over the rows of a 2D `(B, in)` or 3D
/// `(B, S, in)` input, `W` (in, out), `b` (1, out). Backward: `dX = dY·Wᵀ`, `dW += Xᵀ·dY`,
/// `db += Σ_rows dY`. Cost: 6·rows·in·out FLOPs per training step.
public final class InnerProduct: Layer {
    public let name: String
    public let type = LayerType.innerProduct
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let parameters: [Variable]
    public let inFeatures: Int, outFeatures: Int
    let backend: any Backend

    public init(name: String, input: Variable, outputs count: Int, weightInit: Initializer, biasInit: Initializer,
                initializer: WeightInitializer, backend: any Backend) {
        self.name = name
        self.backend = backend
        inFeatures = input.shape.last
        outFeatures = count
        inputs = [input]
        var dims = input.shape.dims
        dims[dims.count - 1] = count
        outputs = [Variable(name: name, shape: Shape(dims), backend: backend, rowsPerSample: input.rowsPerSample)]
        let weight = Variable(name: name + ".weight", shape: [inFeatures, count], backend: backend)
        let bias = Variable(name: name + ".bias", shape: [1, count], backend: backend)
        initializer.fill(weight.value, innerProductDistribution(weightInit, isBias: false, inputs: inFeatures, outputs: count),
                         stream: WeightInitializer.stream(weight.name), backend: backend)
        initializer.fill(bias.value, innerProductDistribution(biasInit, isBias: true, inputs: inFeatures, outputs: count),
                         stream: WeightInitializer.stream(bias.name), backend: backend)
        parameters = [weight, bias]
    }

    private func rows(_ context: StepContext) -> Int { inputs[0].count(context.batch) / inFeatures }

    public func forward(_ context: StepContext) {
        let m = rows(context)
        backend.gemm(transA: false, transB: false, m: m, n: outFeatures, k: inFeatures, alpha: 1,
                     a: inputs[0].value, b: parameters[0].value, beta: 0, c: outputs[0].value)
        backend.addBias(outputs[0].value, bias: parameters[1].value, rows: m, cols: outFeatures)
    }

    public func backward(_ context: StepContext) {
        let m = rows(context)
        backend.gemm(transA: true, transB: false, m: inFeatures, n: outFeatures, k: m, alpha: 1,
                     a: inputs[0].value, b: outputs[0].grad, beta: 1, c: parameters[0].grad)
        backend.sumRows(outputs[0].grad, rows: m, cols: outFeatures, into: parameters[1].grad, accumulate: true)
        backend.gemm(transA: false, transB: true, m: m, n: inFeatures, k: outFeatures, alpha: 1,
                     a: outputs[0].grad, b: parameters[0].value, beta: 0, c: inputs[0].grad)
    }
}

/// `MultiCross` (DCN v1): `x_{l+1} = x_0·⟨x_l, w_l⟩ + x_l + b_l` for `num_layers` layers over a
/// 2D `(B, n)` input. Cost: about 12·B·n FLOPs per layer per training step.
public final class MultiCross: Layer {
    public let name: String
    public let type = LayerType.multiCross
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let parameters: [Variable]
    let layers: Int, width: Int
    /// x_1 … x_{L−1} (x_L is the output), and h_l per layer.
    let hidden: [Tensor], dots: [Tensor]
    let gradA: Tensor, gradB: Tensor, dx0: Tensor
    let backend: any Backend

    public init(name: String, input: Variable, layers: Int, weightInit: Initializer, biasInit: Initializer,
                initializer: WeightInitializer, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.layers = layers
        width = input.shape.last
        inputs = [input]
        let batch = input.shape[0]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        hidden = (0..<max(0, layers - 1)).map { _ in backend.makeTensor(input.shape, .float32) }
        dots = (0..<layers).map { _ in backend.makeTensor([batch], .float32) }
        gradA = backend.makeTensor(input.shape, .float32)
        gradB = backend.makeTensor(input.shape, .float32)
        dx0 = backend.makeTensor(input.shape, .float32)
        var params: [Variable] = []
        for l in 0..<layers {
            let w = Variable(name: "\(name).\(l).weight", shape: [1, width], backend: backend)
            let b = Variable(name: "\(name).\(l).bias", shape: [1, width], backend: backend)
            let wDist: WeightInitializer.Distribution = weightInit == .zero ? .zero : .normal((1 / Float(width)).squareRoot())
            initializer.fill(w.value, wDist, stream: WeightInitializer.stream(w.name), backend: backend)
            params += [w, b]
        }
        _ = biasInit  // every cross bias starts at zero whatever the type (HugeCTR's Default is Zero)
        parameters = params
    }

    private func x(_ l: Int) -> Tensor { l == 0 ? inputs[0].value : l == layers ? outputs[0].value : hidden[l - 1] }

    public func forward(_ context: StepContext) {
        for l in 0..<layers {
            backend.crossForward(x0: inputs[0].value, xl: x(l), weight: parameters[2 * l].value,
                                 bias: parameters[2 * l + 1].value, h: dots[l], out: x(l + 1),
                                 batch: inputs[0].rows(context.batch), width: width)
        }
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), n = rows * width
        backend.fill(dx0.prefix([n]), 0)
        var g = outputs[0].grad
        for l in stride(from: layers - 1, through: 0, by: -1) {
            let target = l == 0 ? inputs[0].grad : (g === gradA ? gradB : gradA)
            backend.crossBackward(x0: inputs[0].value, xl: x(l), weight: parameters[2 * l].value, h: dots[l], g: g,
                                  dx0: dx0, dxl: target, dweight: parameters[2 * l].grad,
                                  dbias: parameters[2 * l + 1].grad, batch: rows, width: width)
            g = target
        }
        backend.axpy(1, dx0, inputs[0].grad, count: n)
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
public final class BinaryCrossEntropyLoss: Layer {
    public let name: String
    public let type = LayerType.binaryCrossEntropyLoss
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let predictions: Tensor
    /// Loss scaler (solver `scaler`); optimizers divide it back out.
    public var scaler: Float = 1
    /// float [1]: the mean loss of the last forward, in backend memory.
    public let lossValue: Tensor
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
