import CTRCore

/// `Dropout`: in training `y = x·m/(1−p)` with `m ~ Bernoulli(1−p)` per element (p =
/// `dropout_rate`, the probability of dropping); in evaluation `y = x`. Backward `dx = dy·m/(1−p)`
/// with the stored mask. Cost: one pass each way (plus the mask: 4 bytes per element).
///
/// ```swift
/// model.add(DenseLayer(.dropout, bottomNames: ["relu1"], topNames: ["dropout1"], dropoutRate: 0.5))
/// ```
///
/// HugeCTR: `Dropout`. The mask comes from the counter RNG keyed by (step seed, layer name, element
/// group), so every backend draws the same mask (`Dropout.keeps`).
public final class Dropout: RegisteredLayer {
    public let name: String
    public let inputs: [Variable]
    public let outputs: [Variable]
    public let rate: Float
    let mask: Tensor
    let stream: UInt64
    let backend: any Backend

    package init(name: String, input: Variable, rate: Float, backend: any Backend) {
        self.name = name
        self.rate = rate
        self.backend = backend
        inputs = [input]
        outputs = [Variable(name: name, shape: input.shape, backend: backend, rowsPerSample: input.rowsPerSample)]
        mask = backend.makeTensor(input.shape, .float32)
        stream = WeightInitializer.stream("dropout/" + name)
    }

    /// The mask's seed for a step: masks differ per iteration and per layer (`stream`).
    static func seed(_ context: StepContext) -> UInt64 { context.seed &+ UInt64(context.iteration) &* 0x9E37_79B9 }

    public func forward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        if context.training && rate > 0 {
            backend.dropout(inputs[0].value, into: outputs[0].value, mask: mask, count: n, rate: rate,
                            seed: Self.seed(context), stream: stream)
        } else {
            backend.copy(inputs[0].value.prefix([n]), to: outputs[0].value)
        }
    }

    public func backward(_ context: StepContext) {
        let n = inputs[0].count(context.batch)
        if rate > 0 {
            backend.multiply(outputs[0].grad, mask, into: inputs[0].grad, count: n)
        } else {
            backend.copy(outputs[0].grad.prefix([n]), to: inputs[0].grad)
        }
    }

    /// Whether the layer `name` keeps element `i` in a training step: the mask the backends'
    /// `dropout` kernels draw, written out plainly. Elements go in groups of four; group g hashes
    /// (seed, stream, g) and lane j takes bits 16j..<16j+16; the element drops when that draw is
    /// below `dropoutThreshold(rate)`.
    public static func keeps(_ i: Int, name: String, rate: Float, context: StepContext) -> Bool {
        let bits = CounterRNG.hash(seed(context), WeightInitializer.stream("dropout/" + name), UInt64(i / 4))
        return (bits >> (16 * UInt64(i % 4))) & 0xFFFF >= dropoutThreshold(rate)
    }

    // MARK: registry

    public static let layerType = LayerType.dropout
    public static let parameterNames = ["dropout_rate"]

    public static func make(_ config: DenseLayer, inputs: [Variable], context: LayerBuildContext) throws -> any Layer {
        let check = Checker(config: config, inputs: inputs)
        try check.inputCount(1)
        try check.topCount(1)
        guard config.dropoutRate >= 0 && config.dropoutRate < 1 else {
            throw check.error("dropout_rate must be in [0, 1), found \(config.dropoutRate). Use e.g. 0.5; 0 disables dropout.")
        }
        return Dropout(name: config.name, input: inputs[0], rate: config.dropoutRate, backend: context.backend)
    }

    public static var conformanceCases: [ConformanceCase] {
        func config(_ rate: Float) -> DenseLayer {
            DenseLayer(.dropout, bottomNames: ["x"], topNames: ["dropout"], dropoutRate: rate)
        }
        func reference(_ rate: Float) -> @Sendable (ConformanceReference) -> [[Double]] {
            { r in
                guard r.context.training && rate > 0 else { return r.inputs }
                return [r.inputs[0].enumerated().map { i, x in
                    keeps(i, name: "dropout", rate: rate, context: r.context) ? x / (1 - Double(rate)) : 0
                }]
            }
        }
        return [
            ConformanceCase("Dropout rate 0.3, training", config(0.3), inputs: [ConformanceInput([11])], batch: 5,
                            reference: reference(0.3)),
            ConformanceCase("Dropout rate 0, training", config(0), inputs: [ConformanceInput([2, 3])], batch: 3,
                            reference: reference(0)),
            ConformanceCase("Dropout rate 0.5, evaluation", config(0.5), inputs: [ConformanceInput([6])], batch: 2,
                            training: false, reference: reference(0.5)),
        ]
    }
}
