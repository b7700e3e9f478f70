import CTRCore

/// `MLP`: a stack of fully connected layers run as one layer over a 2D `(B, in)` input. Layer i
/// computes `Z_i = H_{i−1}·W_i (+ b_i)` and `H_i = max(Z_i, 0)` (ReLU) or `H_i = Z_i` (None), with
/// `H_{−1} = X`, `W_i` (in_i, `num_outputs[i]`), `b_i` (1, `num_outputs[i]`); the output is the
/// last `H`. Backward: `dZ_i = dH_i ⊙ [H_i > 0]` (ReLU), `dW_i += H_{i−1}ᵀ·dZ_i`,
/// `db_i += Σ_rows dZ_i`, `dH_{i−1} = dZ_i·W_iᵀ`. Each layer is an InnerProduct (with its GEMM
/// padding on a GPU) whose bias add and ReLU run as one pass. Cost: 6·B·Σ_i in_i·out_i FLOPs per
/// training step, plus one pass over each `H_i` each way. In mixed precision (`halfType`) the
/// hidden `H_i` and their gradients are stored in 16 bits, written and read by the GEMMs
/// directly; the output and its gradient stay fp32.
///
/// ```swift
/// model.add(DenseLayer(.mlp, bottomNames: ["dense"], topNames: ["mlp1"], numOutputs: [512, 256, 128]))
/// model.add(DenseLayer(.mlp, bottomNames: ["interaction1"], topNames: ["mlp2"], numOutputs: [1024, 1024, 512, 256, 1],
///                      activations: [.relu, .relu, .relu, .relu, .none]))
/// ```
///
/// HugeCTR: `MLP` (layer math §6.3). `act_type` and `use_bias` apply to every layer unless
/// `activations` and `biases` (one entry per layer) override them. A layer without a bias has no
/// bias parameter. The parameters are `W_0, b_0, W_1, b_1, …`. Initializers (§1), the same for
/// `W_i` with `weight_init_type` and `b_i` with `bias_init_type`: Default and Uniform
/// U(±√(1/in_i)); XavierUniform U(±√(6/(in_i+out_i))) for weights, U(±√(3/out_i)) for biases;
/// XavierNorm the truncated normal of σ √(2/(in_i+out_i)) for weights, √(1/out_i) for biases;
/// Zero. (HugeCTR picks the Xavier form by the parity of the layer index, allocates unused
/// biases, assigns the bias gradient and takes an Interaction's gradient tensor as a second
/// bottom in mixed precision; see `docs/compatibility.md`.)
public final class MLP: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let parameters: [Variable]
    let layers: [ActivatedInnerProduct]

    package init(name: String, input: Variable, outputs widths: [Int], relu: [Bool], bias: [Bool], weightInit: Initializer,
                 biasInit: Initializer, initializer: WeightInitializer, backend: any Backend, alignment: Int? = nil,
                 halfType: DType? = nil) {
        self.name = name
        inputs = [input]
        var layers: [ActivatedInnerProduct] = [], x = input
        for (i, width) in widths.enumerated() {
            let fanIn = x.shape.last
            let innerProduct = InnerProduct(
                name: "\(name).\(i)", inputs: [x], outputs: width,
                weight: Self.distribution(weightInit, isBias: false, inputs: fanIn, outputs: width),
                bias: bias[i] ? Self.distribution(biasInit, isBias: true, inputs: fanIn, outputs: width) : nil,
                initializer: initializer, backend: backend, alignment: alignment, halfType: halfType,
                outputType: i < widths.count - 1 ? halfType ?? .float32 : .float32)
            layers.append(ActivatedInnerProduct(innerProduct, relu: relu[i]))
            x = innerProduct.outputs[0]
        }
        self.layers = layers
        // The last layer's output under the layer's own name (the top).
        outputs = [Variable(name: name, value: x.value, grad: x.grad, rowsPerSample: x.rowsPerSample)]
        parameters = layers.flatMap(\.innerProduct.parameters)
    }

    /// MLP's initializers (layer math §1), without HugeCTR's layer-parity mix-up of the Xavier forms.
    static func distribution(_ type: Initializer, isBias: Bool, inputs: Int, outputs: Int) -> WeightInitializer.Distribution {
        let fanIn = Float(inputs), fanOut = Float(outputs)
        switch (type, isBias) {
        case (.zero, _): return .zero
        case (.default, _), (.uniform, _): return .uniform((1 / fanIn).squareRoot())
        case (.xavierUniform, false): return .uniform((6 / (fanIn + fanOut)).squareRoot())
        case (.xavierUniform, true): return .uniform((3 / fanOut).squareRoot())
        case (.xavierNorm, false): return .truncatedNormal((2 / (fanIn + fanOut)).squareRoot())
        case (.xavierNorm, true): return .truncatedNormal((1 / fanOut).squareRoot())
        }
    }

    public func forward(_ context: StepContext) {
        for layer in layers { layer.forward(context) }
    }

    public func backward(_ context: StepContext) {
        for layer in layers.reversed() { layer.backward(context) }
    }

    // MARK: registry

    public static let layerType = LayerType.mlp
    public static let parameterNames = ["num_outputs", "act_type", "use_bias", "activations", "biases", "weight_init_type",
                                        "bias_init_type"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        guard inputs.count == 1 else {
            throw check.error("MLP takes one bottom, found \(inputs.count). HugeCTR's optional second bottom (an Interaction's gradient tensor, a mixed-precision optimization) is not available; give the input only.")
        }
        try check.topCount(1)
        try check.rank(in: [2])
        let widths = config.numOutputs, count = widths.count
        guard count >= 1 else {
            throw check.error("num_outputs is empty; give the width of each fully connected layer, e.g. num_outputs = [512, 256, 128].")
        }
        for (i, width) in widths.enumerated() where width < 1 {
            throw check.error("num_outputs[\(i)] must be ≥ 1, found \(width). Fix num_outputs \(widths).")
        }
        guard config.activations.isEmpty || config.activations.count == count else {
            throw check.error("activations has \(config.activations.count) entries for \(count) layers (num_outputs \(widths)); give one per layer, or none to use act_type for all.")
        }
        guard config.biases.isEmpty || config.biases.count == count else {
            throw check.error("biases has \(config.biases.count) entries for \(count) layers (num_outputs \(widths)); give one per layer, or none to use use_bias for all.")
        }
        let activations = config.activations.isEmpty ? Array(repeating: config.actType, count: count) : config.activations
        return MLP(name: config.name, input: inputs[0], outputs: widths, relu: activations.map { $0 == .relu },
                   bias: config.biases.isEmpty ? Array(repeating: config.useBias, count: count) : config.biases,
                   weightInit: config.weightInitType, biasInit: config.biasInitType, initializer: context.initializer,
                   backend: context.backend, alignment: context.gemmAlignment, halfType: context.halfType)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// Per row: `h ← act(h·W_i + b_i)` layer by layer; parameters W_0, (b_0), W_1, ….
        func mlp(_ name: String, input: Int, _ config: DenseLayer, alignment: Int? = nil) -> ConformanceCase {
            let count = config.numOutputs.count
            let relu = config.activations.isEmpty ? Array(repeating: config.actType == .relu, count: count)
                : config.activations.map { $0 == .relu }
            let bias = config.biases.isEmpty ? Array(repeating: config.useBias, count: count) : config.biases
            return ConformanceCase("MLP \(name)", config, inputs: [ConformanceInput([input])], batch: 3,
                                   gemmAlignment: alignment) { r in
                [(0..<r.batch).flatMap { row in
                    var h = Array(r.inputs[0][row * input..<(row + 1) * input]), p = 0
                    for (i, width) in config.numOutputs.enumerated() {
                        let w = r.parameters[p], b = bias[i] ? r.parameters[p + 1] : nil, fanIn = h.count
                        p += bias[i] ? 2 : 1
                        h = (0..<width).map { o in
                            let z = (0..<fanIn).reduce(b?[o] ?? 0) { $0 + h[$1] * w[$1 * width + o] }
                            return relu[i] ? max(z, 0) : z
                        }
                    }
                    return h
                }]
            }
        }
        func config(_ widths: [Int], actType: Activation = .relu, useBias: Bool = true, activations: [Activation] = [],
                    biases: [Bool] = [], weightInit: Initializer = .default) -> DenseLayer {
            DenseLayer(.mlp, bottomNames: ["x"], topNames: ["mlp"], weightInitType: weightInit, biasInitType: .xavierUniform,
                       actType: actType, numOutputs: widths, useBias: useBias, activations: activations, biases: biases)
        }
        return [
            mlp("[4, 3], ReLU", input: 5, config([4, 3])),
            mlp("[6, 4, 2], last activation None, middle layer without bias", input: 5,
                config([6, 4, 2], activations: [.relu, .relu, .none], biases: [true, false, true], weightInit: .xavierNorm)),
            mlp("[3], act_type None, use_bias false", input: 4, config([3], actType: .none, useBias: false)),
            mlp("[16, 5] padded to 8", input: 13, config([16, 5], weightInit: .xavierUniform), alignment: 8),
        ]
    }
}
