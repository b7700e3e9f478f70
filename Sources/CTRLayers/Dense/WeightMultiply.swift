import CTRCore

/// `WeightMultiply`: maps each of the S features of a 2D `(B, S)` input to a latent vector by
/// scaling a trainable row of `W` (S, V): `y[b, s·V + v] = x[b, s]·W[s, v]`, output `(B, S·V)`.
/// Backward: `dW[s, v] += Σ_b dy[b, s·V + v]·x[b, s]`, `dx[b, s] = Σ_v dy[b, s·V + v]·W[s, v]`.
/// Cost: 2 passes over the output forward, 4 backward (broadcasts, products and reductions).
///
/// ```swift
/// model.add(DenseLayer(.weightMultiply, bottomNames: ["slice21"], topNames: ["weight_multiply1"],
///                      weightDims: [10, 10], weightInitType: .xavierUniform))
/// ```
///
/// HugeCTR: `WeightMultiply` (layer math §6.6). `W` starts as layer math §1 says, with fan-in S and
/// fan-out S·V (Default = XavierUniform). Unlike HugeCTR, which assigns it, the weight gradient
/// accumulates like every other weight's, so a regularizer's term survives.
public final class WeightMultiply: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let parameters: [Variable]
    let features: Int, vectorSize: Int
    /// Products of the output's size for the backward reductions.
    let scratch: Tensor
    let backend: any Backend

    package init(name: String, input: Variable, vectorSize: Int, weightInit: Initializer, initializer: WeightInitializer,
                backend: any Backend) {
        self.name = name
        self.backend = backend
        self.vectorSize = vectorSize
        inputs = [input]
        features = input.shape[1]
        let rows = input.shape[0], width = features * vectorSize
        outputs = [Variable(name: name, shape: [rows, width], backend: backend, rowsPerSample: input.rowsPerSample)]
        let weight = Variable(name: name + ".weight", shape: [features, vectorSize], backend: backend)
        initializer.fill(weight.value, Self.distribution(weightInit, features: features, vectorSize: vectorSize),
                         stream: WeightInitializer.stream(weight.name), backend: backend)
        parameters = [weight]
        scratch = backend.makeTensor([rows, width], .float32)
    }

    /// Layer math §1: InnerProduct's weight rules with fan-in S and fan-out S·V, except that
    /// Default means XavierUniform.
    static func distribution(_ type: Initializer, features: Int, vectorSize: Int) -> WeightInitializer.Distribution {
        innerProductDistribution(type == .default ? .xavierUniform : type, isBias: false, inputs: features,
                                 outputs: features * vectorSize)
    }

    public func forward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), y = outputs[0].value, width = features * vectorSize
        // Broadcasting x[b, s] over the V elements of its vector is the backward of a sum over them.
        backend.reduceBackward(.sum, dy: inputs[0].value, outer: rows * features, axis: vectorSize, inner: 1, into: y)
        backend.binary(.multiply, y, parameters[0].value, into: y, count: rows * width, broadcast: .row(width))
    }

    public func backward(_ context: StepContext) {
        let rows = inputs[0].rows(context.batch), dy = outputs[0].grad, width = features * vectorSize
        let weight = parameters[0]
        backend.binary(.multiply, dy, inputs[0].value, into: scratch, count: rows * width, broadcast: .column(vectorSize))
        backend.sumRows(scratch, rows: rows, cols: width, into: weight.grad, accumulate: true)
        backend.binary(.multiply, dy, weight.value, into: scratch, count: rows * width, broadcast: .row(width))
        backend.reduce(.sum, scratch, outer: rows * features, axis: vectorSize, inner: 1, into: inputs[0].grad)
    }

    // MARK: registry

    public static let layerType = LayerType.weightMultiply
    public static let parameterNames = ["weight_dims", "weight_init_type"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        try check.rank(in: [2])
        let dims = config.weightDims, input = inputs[0]
        guard dims.count == 2, dims.allSatisfy({ $0 >= 1 }) else {
            throw check.error("weight_dims must be [slot_dim, vec_dim] with both ≥ 1, found \(dims). Set weight_dims = [\(input.shape[1]), <vector size>].")
        }
        guard dims[0] == input.shape[1] else {
            throw check.error("weight_dims[0] = \(dims[0]) must equal the \(input.shape[1]) features of '\(input.name)' \(input.perSampleShape). Set weight_dims = [\(input.shape[1]), \(dims[1])].")
        }
        return WeightMultiply(name: config.name, input: input, vectorSize: dims[1], weightInit: config.weightInitType,
                              initializer: context.initializer, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        /// `y[b, s·V + v] = x[b, s]·W[s, v]` over rows of S features.
        func weightMultiply(_ features: Int, _ vectorSize: Int, _ initType: Initializer = .default) -> ConformanceCase {
            ConformanceCase("WeightMultiply [\(features), \(vectorSize)] \(initType.rawValue)",
                            DenseLayer(.weightMultiply, bottomNames: ["x"], topNames: ["wm"], weightInitType: initType,
                                       weightDims: [features, vectorSize]),
                            inputs: [ConformanceInput([features])], batch: 3) { r in
                let x = r.inputs[0], w = r.parameters[0]
                return [(0..<x.count / features).flatMap { row in
                    (0..<features * vectorSize).map { i in x[row * features + i / vectorSize] * w[i] }
                }]
            }
        }
        return [weightMultiply(3, 4), weightMultiply(5, 1, .xavierNorm), weightMultiply(1, 6, .uniform)]
    }
}
