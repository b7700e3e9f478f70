import CTRCore

/// Draws initial weights on the host from the counter RNG (identical on every backend) and uploads
/// them. `stream` separates the tensors of one model.
public struct WeightInitializer: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// How one tensor is filled.
    public enum Distribution: Sendable, Equatable {
        case zero
        case constant(Float)
        case uniform(Float)  // U(-limit, limit)
        case normal(Float)  // N(0, std)
        /// N(0, std) truncated at ±2 standard deviations of the *untruncated* draw, then divided by
        /// 0.8796 so the result has the requested standard deviation (HugeCTR asks for this but
        /// never truncates).
        case truncatedNormal(Float)
    }

    public func values(_ count: Int, _ distribution: Distribution, stream: UInt64) -> [Float] {
        var rng = CounterRNG(seed: seed, stream: stream)
        return (0..<count).map { _ in
            switch distribution {
            case .zero: 0
            case .constant(let c): c
            case .uniform(let limit): Float(rng.nextUniform(-Double(limit), Double(limit)))
            case .normal(let std): Float(rng.nextNormal()) * std
            case .truncatedNormal(let std):
                {
                    var z = rng.nextNormal()
                    while abs(z) > 2 { z = rng.nextNormal() }
                    return Float(z / 0.87962566103423978) * std
                }()
            }
        }
    }

    public func fill(_ tensor: Tensor, _ distribution: Distribution, stream: UInt64, backend: any Backend) {
        backend.upload(values(tensor.count, distribution, stream: stream), to: tensor)
    }

    public static func stream(_ name: String) -> UInt64 { CounterRNG.stream(named: name) }
}

/// InnerProduct's initializers (layer math §1): fan-in `inputs`, fan-out `outputs`.
func innerProductDistribution(_ type: Initializer, isBias: Bool, inputs: Int, outputs: Int) -> WeightInitializer.Distribution {
    let fanIn = Float(inputs), fanOut = Float(outputs)
    switch (type, isBias) {
    case (.zero, _): return .zero
    case (.uniform, false): return .uniform(1 / (fanIn + fanOut))
    case (.uniform, true): return .uniform(1 / fanOut)
    case (.xavierUniform, false): return .uniform((6 / (fanIn + fanOut)).squareRoot())
    case (.xavierUniform, true): return .uniform((3 / max(1, fanOut / 2)).squareRoot())
    case (.xavierNorm, true): return .truncatedNormal((1 / max(1, fanOut / 2)).squareRoot())
    case (.default, true): return .normal((1 / fanOut).squareRoot())
    case (.default, false), (.xavierNorm, false): return .truncatedNormal((2 / (fanIn + fanOut)).squareRoot())
    }
}
