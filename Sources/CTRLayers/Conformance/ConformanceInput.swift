import CTRCore

/// One input tensor of a `ConformanceCase`: its shape without the leading (batch) dimension, how
/// many leading rows one sample fills (a Reshape with `leading_dim` gives several), which values
/// it holds, and whether its gradient is checked. An input that is not `batched` has exactly
/// `shape` (e.g. MatrixMultiply's 2D right operand, whose first dimension is the inner one).
public struct ConformanceInput: Sendable {
    /// How the input is filled (from the case's seed).
    public enum Values: Sendable {
        /// N(0, 1).
        case normal
        /// N(0, 1) moved 0.1 away from zero, so that no element sits near a kink (ReLU at 0).
        case awayFromZero
        /// U(0, 1), e.g. (soft) labels.
        case probabilities
        /// U(low, high), e.g. sequence lengths.
        case uniform(Double, Double)
        /// 1 with probability p, else 0, e.g. attention masks.
        case bernoulli(Double)
        /// One 1 per row of the last dimension, at a random position, and zeros (class labels).
        case oneHot
        /// Binary labels of which some are ignored: −1 with probability 1/4, else U(0, 1)
        /// (MultiCrossEntropyLoss).
        case probabilitiesOrIgnored
    }

    /// The variable's shape is `[samples · rowsPerSample] + shape` (`shape` when not `batched`).
    public var shape: [Int]
    public var rowsPerSample: Int
    public var values: Values
    /// Whether the layer computes this input's gradient (a loss's label has none).
    public var differentiable: Bool
    /// Whether the first dimension is the batch; when not, the reference reads the whole tensor
    /// and the whole gradient is checked.
    public var batched: Bool

    public init(_ shape: [Int], rowsPerSample: Int = 1, values: Values = .normal, differentiable: Bool = true,
                batched: Bool = true) {
        self.shape = shape
        self.rowsPerSample = rowsPerSample
        self.values = values
        self.differentiable = differentiable
        self.batched = batched
    }

    /// Elements of one sample.
    public var sampleCount: Int { rowsPerSample * shape.reduce(1, *) }

    /// Elements that `samples` samples fill (all of them when not `batched`).
    public func count(samples: Int) -> Int { batched ? samples * sampleCount : shape.reduce(1, *) }

    /// ", N rows per sample" for a case name when an input fills N > 1 rows per sample, else "".
    public static func rowsNote(_ rowsPerSample: Int) -> String {
        rowsPerSample > 1 ? ", \(rowsPerSample) rows per sample" : ""
    }

    /// The variable's shape for `samples` samples.
    public func variableShape(samples: Int) -> Shape { Shape(batched ? [samples * rowsPerSample] + shape : shape) }
}
