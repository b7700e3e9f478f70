import CTRCore

/// One sample configuration of a registered layer (as PyTorch's OpInfo samples): a `DenseLayer`,
/// its input shapes, a batch, training or evaluation, and a plain float64 reference forward.
/// `ConformanceTests` runs every registered type's cases on the CPU against the reference and its
/// central differences; `swiftctr selftest` runs them on a device against the CPU.
///
/// ```swift
/// ConformanceCase("ReLU 2D", DenseLayer(.relu, bottomNames: ["x"], topNames: ["y"]),
///                 inputs: [ConformanceInput([7], values: .awayFromZero)], batch: 3) { r in
///     [r.inputs[0].map { max($0, 0) }]
/// }
/// ```
public struct ConformanceCase: Sendable {
    public var name: String
    public var config: DenseLayer
    public var inputs: [ConformanceInput]
    /// Samples the step runs; the variables hold one more, so that touching rows beyond the
    /// batch shows.
    public var batch: Int
    public var training: Bool
    /// Overrides the backend's GEMM alignment when building (InnerProduct's padded path).
    public var gemmAlignment: Int?
    /// When set, every parameter is overwritten with N(0, std²) values before the run (e.g.
    /// MultiCross, whose biases start at zero).
    public var parameterStd: Double?
    public var reference: @Sendable (ConformanceReference) -> [[Double]]

    public init(_ name: String, _ config: DenseLayer, inputs: [ConformanceInput], batch: Int, training: Bool = true,
                gemmAlignment: Int? = nil, parameterStd: Double? = nil,
                reference: @escaping @Sendable (ConformanceReference) -> [[Double]]) {
        self.name = name
        self.config = config
        self.inputs = inputs
        self.batch = batch
        self.training = training
        self.gemmAlignment = gemmAlignment
        self.parameterStd = parameterStd
        self.reference = reference
    }

    /// Samples the input variables hold.
    public var maxBatch: Int { batch + 1 }

    /// The step the case runs (fixed iteration and seed, so that dropout masks reproduce).
    public var context: StepContext { StepContext(batch: batch, training: training, iteration: 3, seed: 11) }

    /// Each input's values for `maxBatch` samples, drawn from `seed`.
    public func inputValues(seed: UInt64) -> [[Float]] {
        inputs.enumerated().map { k, input in
            var rng = CounterRNG(seed: seed, stream: 0xC0F0 + UInt64(k))
            let width = input.shape.last ?? 1
            var hot = 0
            return (0..<input.count(samples: maxBatch)).map { i in
                switch input.values {
                case .normal: return Float(rng.nextNormal())
                case .awayFromZero: let z = Float(rng.nextNormal()); return z >= 0 ? z + 0.1 : z - 0.1
                case .probabilities: return Float(rng.nextUniform())
                case .oneHot:
                    if i % width == 0 { hot = rng.nextInt(below: width) }
                    return i % width == hot ? 1 : 0
                case .probabilitiesOrIgnored: return rng.nextUniform() < 0.25 ? -1 : Float(rng.nextUniform())
                case let .uniform(low, high): return Float(rng.nextUniform(low, high))
                case let .bernoulli(p): return rng.nextUniform() < p ? 1 : 0
                }
            }
        }
    }
}
