import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `GRU`: a single-layer, unidirectional gated recurrent unit over each sample's sequence of
/// T = `SeqLength` vectors of E = `vector_size`, with H = `num_output` hidden units and `h₀ = 0`
/// (cuDNN's gate equations, one bias per gate):
///
///     r_t = σ(W_r x_t + R_r h_{t−1} + b_r)
///     z_t = σ(W_z x_t + R_z h_{t−1} + b_z)
///     n_t = tanh(W_n x_t + r_t ⊙ (R_n h_{t−1}) + b_n)
///     h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
///
/// The input holds sample b's vector t at `x[b, t, :]`: `(B, T, E)`, `(B·T, E)` with T rows per
/// sample, or `(B, T·E)`; the output `y[b, t, :] = h_t` has the same form with H in place of E.
/// Weights: `W` (3H, E) = [W_r; W_z; W_n], `R` (3H, H) = [R_r; R_z; R_n], `b` (1, 3H) =
/// [b_r, b_z, b_n] (HugeCTR's blob order). Backward runs through time, accumulating
/// `dW += Σ_t dGX_tᵀ·x_t`, `dR += Σ_t dGH_tᵀ·h_{t−1}` and `db += Σ_t Σ_b dGX_t` from the gate
/// gradients. Cost: 6·B·T·E·H + 6·B·T·H² FLOPs forward (twice that backward) in GEMMs over all
/// steps' inputs at once and one batched GEMM per step, plus about a dozen element-wise passes
/// over (B, H) per step.
///
/// ```swift
/// model.add(DenseLayer(.gru, bottomNames: ["item_history"], topNames: ["gru1"], numOutput: 36,
///                      batchsize: 64, seqLength: 10, vectorSize: 18))
/// ```
///
/// HugeCTR: `GRU` (layer math §6.22), fp32 only. `batchsize` is accepted but the layer runs on
/// each step's batch. Unlike HugeCTR, each sample's sequence is read contiguously (cuDNN's layout
/// there is sequence-major across samples), the weights start from `weight_init_type` and
/// `bias_init_type` (InnerProduct's distributions, fan-in E or H, fan-out H) instead of always 0,
/// and the backward pass works (see `docs/compatibility.md`).
public final class GRU: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let parameters: [Variable]
    public let hidden: Int, steps: Int, vectorSize: Int
    /// The gates' input parts `W_g·x + b_g` for every step (3, B·T, H), then in backward their
    /// gradients; one step's of them (3, B, H).
    let inputGates: Tensor, stepGates: Tensor
    /// Per step (T, 4, B, H): r, z, R_n·h_{t−1} and n; the hidden states (T, B, H).
    let saved: Tensor, states: Tensor
    /// Backward: the recurrent gates' gradients (3, B, H), dh of this and the previous step, and a
    /// scratch (B, H).
    let recurrentGradient: Tensor, dh: Tensor, dhPrevious: Tensor, scratch: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, hidden: Int, steps: Int, vectorSize: Int, weightInit: Initializer,
                biasInit: Initializer, initializer: WeightInitializer, backend: any Backend) {
        self.name = name
        self.backend = backend
        self.hidden = hidden
        self.steps = steps
        self.vectorSize = vectorSize
        inputs = [input]
        var dims = input.shape.dims
        dims[dims.count - 1] = dims.last! == vectorSize ? hidden : steps * hidden
        outputs = [Variable(name: name, shape: Shape(dims), backend: backend, rowsPerSample: input.rowsPerSample)]
        let weight = Variable(name: name + ".weight", shape: [3 * hidden, vectorSize], backend: backend)
        let recurrent = Variable(name: name + ".recurrent_weight", shape: [3 * hidden, hidden], backend: backend)
        let bias = Variable(name: name + ".bias", shape: [1, 3 * hidden], backend: backend)
        for (v, type, isBias, fanIn) in [(weight, weightInit, false, vectorSize), (recurrent, weightInit, false, hidden),
                                         (bias, biasInit, true, vectorSize)] {
            initializer.fill(v.value, innerProductDistribution(type, isBias: isBias, inputs: fanIn, outputs: hidden),
                             stream: WeightInitializer.stream(v.name), backend: backend)
        }
        parameters = [weight, recurrent, bias]
        let samples = input.maxBatch, block = samples * hidden
        inputGates = backend.makeTensor([3 * steps * block], .float32)
        stepGates = backend.makeTensor([3 * block], .float32)
        saved = backend.makeTensor([steps * 4 * block], .float32)
        states = backend.makeTensor([steps * block], .float32)
        recurrentGradient = backend.makeTensor([3 * block], .float32)
        dh = backend.makeTensor([block], .float32)
        dhPrevious = backend.makeTensor([block], .float32)
        scratch = backend.makeTensor([block], .float32)
    }

    private var weight: Variable { parameters[0] }
    private var recurrent: Variable { parameters[1] }
    private var bias: Variable { parameters[2] }

    /// Matrix `index` of `count` elements in `tensor`.
    private func part(_ tensor: Tensor, _ index: Int, _ count: Int) -> Tensor { tensor.view(from: index * count, [count]) }

    /// Step t's saved gates for `n` samples: r, z, R_n·h_{t−1}, n (each n × H).
    private func gates(_ t: Int, _ n: Int) -> (block: Tensor, r: Tensor, z: Tensor, recurrentN: Tensor, candidate: Tensor) {
        let size = n * hidden, block = saved.view(from: t * 4 * size, [4 * size])
        return (block, part(block, 0, size), part(block, 1, size), part(block, 2, size), part(block, 3, size))
    }

    /// Copies step t's (3n × H) rows out of, or into, the all-steps (3n × T·H) gate matrix.
    private func stepColumns(_ t: Int, _ n: Int, toStep: Bool) {
        let wide = steps * hidden
        if toStep {
            backend.copyColumns(inputGates, srcWidth: wide, srcStart: t * hidden, into: stepGates, dstWidth: hidden, dstStart: 0,
                                rows: 3 * n, width: hidden, accumulate: false)
        } else {
            backend.copyColumns(stepGates, srcWidth: hidden, srcStart: 0, into: inputGates, dstWidth: wide, dstStart: t * hidden,
                                rows: 3 * n, width: hidden, accumulate: false)
        }
    }

    public func forward(_ context: StepContext) {
        let n = context.batch, size = n * hidden, all = n * steps * hidden, (e, h) = (vectorSize, hidden)
        backend.batchedGEMM(transA: false, transB: true, m: n * steps, n: h, k: e, alpha: 1, a: inputs[0].value, strideA: 0,
                            b: weight.value, strideB: h * e, beta: 0, c: inputGates, strideC: all, batchCount: 3)
        for g in 0..<3 {
            backend.binary(.add, part(inputGates, g, all), part(bias.value, g, h), into: part(inputGates, g, all), count: all,
                           broadcast: .row(h))
        }
        for t in 0..<steps {
            let s = gates(t, n), state = part(states, t, size), previous = t > 0 ? part(states, t - 1, size) : nil
            stepColumns(t, n, toStep: true)
            if let previous {
                backend.batchedGEMM(transA: false, transB: true, m: n, n: h, k: h, alpha: 1, a: previous, strideA: 0,
                                    b: recurrent.value, strideB: h * h, beta: 0, c: s.block, strideC: size, batchCount: 3)
            } else {
                backend.fill(s.block.view(from: 0, [3 * size]), 0)
            }
            for (gate, g) in [(s.r, 0), (s.z, 1)] {
                backend.binary(.add, gate, part(stepGates, g, size), into: gate, count: size)
                backend.unary(.sigmoid, gate, into: gate, count: size)
            }
            backend.multiply(s.r, s.recurrentN, into: s.candidate, count: size)
            backend.binary(.add, s.candidate, part(stepGates, 2, size), into: s.candidate, count: size)
            backend.unary(.tanh, s.candidate, into: s.candidate, count: size)
            // h = n + z ⊙ (h_{t−1} − n)
            if let previous {
                backend.binary(.subtract, previous, s.candidate, into: state, count: size)
            } else {
                backend.unary(.negate, s.candidate, into: state, count: size)
            }
            backend.multiply(state, s.z, into: state, count: size)
            backend.binary(.add, state, s.candidate, into: state, count: size)
            backend.copyColumns(state, srcWidth: h, srcStart: 0, into: outputs[0].value, dstWidth: steps * h, dstStart: t * h,
                                rows: n, width: h, accumulate: false)
        }
    }

    public func backward(_ context: StepContext) {
        let n = context.batch, size = n * hidden, all = n * steps * hidden, (e, h) = (vectorSize, hidden)
        var current = dh, previousGradient = dhPrevious
        for t in (0..<steps).reversed() {
            let s = gates(t, n), previous = t > 0 ? part(states, t - 1, size) : nil
            backend.copyColumns(outputs[0].grad, srcWidth: steps * h, srcStart: t * h, into: current, dstWidth: h, dstStart: 0,
                                rows: n, width: h, accumulate: t < steps - 1)
            // dz = dh ⊙ (h_{t−1} − n), through σ.
            if let previous {
                backend.binary(.subtract, previous, s.candidate, into: scratch, count: size)
            } else {
                backend.unary(.negate, s.candidate, into: scratch, count: size)
            }
            backend.multiply(scratch, current, into: scratch, count: size)
            backend.unaryBackward(.sigmoid, x: s.z, y: s.z, dy: scratch, into: part(stepGates, 1, size), count: size)
            // dn = dh − dh ⊙ z, through tanh; dh ⊙ z is the direct part of dh_{t−1}.
            backend.multiply(current, s.z, into: previousGradient, count: size)
            backend.binary(.subtract, current, previousGradient, into: scratch, count: size)
            backend.unaryBackward(.tanh, x: s.candidate, y: s.candidate, dy: scratch, into: part(stepGates, 2, size), count: size)
            // dr = da_n ⊙ (R_n h_{t−1}), through σ.
            backend.multiply(part(stepGates, 2, size), s.recurrentN, into: scratch, count: size)
            backend.unaryBackward(.sigmoid, x: s.r, y: s.r, dy: scratch, into: part(stepGates, 0, size), count: size)
            stepColumns(t, n, toStep: false)
            guard let previous else { continue }
            // The recurrent gates' gradients: da_r, da_z, da_n ⊙ r.
            backend.copy(stepGates.view(from: 0, [2 * size]), to: recurrentGradient)
            backend.multiply(part(stepGates, 2, size), s.r, into: part(recurrentGradient, 2, size), count: size)
            for g in 0..<3 {
                backend.gemm(transA: false, transB: false, m: n, n: h, k: h, alpha: 1, a: part(recurrentGradient, g, size),
                             b: part(recurrent.value, g, h * h), beta: 1, c: previousGradient)
            }
            backend.batchedGEMM(transA: true, transB: false, m: h, n: h, k: n, alpha: 1, a: recurrentGradient, strideA: size,
                                b: previous, strideB: 0, beta: 1, c: recurrent.grad, strideC: h * h, batchCount: 3)
            swap(&current, &previousGradient)
        }
        backend.batchedGEMM(transA: true, transB: false, m: h, n: e, k: n * steps, alpha: 1, a: inputGates, strideA: all,
                            b: inputs[0].value, strideB: 0, beta: 1, c: weight.grad, strideC: h * e, batchCount: 3)
        for g in 0..<3 {
            backend.sumRows(part(inputGates, g, all), rows: n * steps, cols: h, into: part(bias.grad, g, h), accumulate: true)
            backend.gemm(transA: false, transB: false, m: n * steps, n: e, k: h, alpha: 1, a: part(inputGates, g, all),
                         b: part(weight.value, g, h * e), beta: g == 0 ? 0 : 1, c: inputs[0].grad)
        }
    }

    // MARK: registry

    public static let layerType = LayerType.gru
    public static func mixedPrecisionRefusal(_ config: DenseLayer) -> String? { fp32Only }
    public static let parameterNames = ["num_output", "batchsize", "SeqLength", "vector_size", "weight_init_type",
                                        "bias_init_type"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.positive(config.numOutput, "num_output")
        try check.positive(config.batchsize, "batchsize")
        try check.positive(config.seqLength, "SeqLength")
        try check.positive(config.vectorSize, "vector_size")
        let input = inputs[0], (t, e) = (config.seqLength, config.vectorSize)
        guard input.sampleCount == t * e else {
            throw check.error("each sample must hold a sequence of SeqLength × vector_size = \(t) × \(e) = \(t * e) elements, found \(input.sampleCount) in '\(input.name)' \(input.perSampleShape). Set SeqLength and vector_size to the input's shape (batch, SeqLength, vector_size).")
        }
        guard input.shape.last == e || input.shape.last == t * e else {
            throw check.error("the last dimension of '\(input.name)' \(input.perSampleShape) must be vector_size = \(e) (one vector per step) or SeqLength × vector_size = \(t * e) (the whole sequence), found \(input.shape.last). Reshape it to (batch, \(t), \(e)).")
        }
        return GRU(name: config.name, input: input, hidden: config.numOutput, steps: t, vectorSize: e,
                   weightInit: config.weightInitType, biasInit: config.biasInitType, initializer: context.initializer,
                   backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// The gate equations step by step for each sample.
        func gru(steps t: Int, vector e: Int, hidden h: Int, shape: [Int], rowsPerSample: Int = 1,
                 weightInit: Initializer = .xavierUniform, biasInit: Initializer = .uniform) -> ConformanceCase {
            ConformanceCase("GRU T \(t), E \(e), H \(h), input \(shape)\(ConformanceInput.rowsNote(rowsPerSample)), \(weightInit.rawValue)/\(biasInit.rawValue)",
                            DenseLayer(.gru, bottomNames: ["x"], topNames: ["gru"], numOutput: h, weightInitType: weightInit,
                                       biasInitType: biasInit, batchsize: 3, seqLength: t, vectorSize: e),
                            inputs: [ConformanceInput(shape, rowsPerSample: rowsPerSample)], batch: 3) { r in
                let (x, w, u, bias) = (r.inputs[0], r.parameters[0], r.parameters[1], r.parameters[2])
                /// Row `o` of gate g: `W_g x + b_g` or `R_g h`.
                func affine(_ m: [Double], _ cols: Int, _ g: Int, _ o: Int, _ v: ArraySlice<Double>) -> Double {
                    zip(m[(g * h + o) * cols..<(g * h + o + 1) * cols], v).reduce(0) { $0 + $1.0 * $1.1 }
                }
                return [(0..<r.batch).flatMap { b -> [Double] in
                    var state = [Double](repeating: 0, count: h), y: [Double] = []
                    for step in 0..<t {
                        let xt = x[(b * t + step) * e..<(b * t + step + 1) * e], hs = state[...]
                        state = (0..<h).map { o in
                            let reset = ConformanceReference.sigmoid(affine(w, e, 0, o, xt) + bias[o] + affine(u, h, 0, o, hs))
                            let update = ConformanceReference.sigmoid(affine(w, e, 1, o, xt) + bias[h + o] + affine(u, h, 1, o, hs))
                            let candidate = tanh(affine(w, e, 2, o, xt) + bias[2 * h + o] + reset * affine(u, h, 2, o, hs))
                            return (1 - update) * candidate + update * hs[o]
                        }
                        y += state
                    }
                    return y
                }]
            }
        }
        return [
            gru(steps: 3, vector: 2, hidden: 3, shape: [3, 2]), gru(steps: 1, vector: 4, hidden: 2, shape: [4]),
            gru(steps: 4, vector: 3, hidden: 2, shape: [3], rowsPerSample: 4, weightInit: .default, biasInit: .default),
            gru(steps: 2, vector: 2, hidden: 5, shape: [4], weightInit: .xavierNorm, biasInit: .xavierUniform),
        ]
    }
}
