import CTRCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a conformance case's float64 reference forward reads: the inputs and parameters as
/// doubles and the step. It returns each output's values for the batch's samples in row-major
/// order (a loss: its mean loss).
public struct ConformanceReference: Sendable {
    /// Each input's values for the first `batch` samples (all of an input that is not batched).
    public var inputs: [[Double]]
    /// Each of the layer's `parameters`, whole.
    public var parameters: [[Double]]
    public var batch: Int
    public var context: StepContext

    public init(inputs: [[Double]], parameters: [[Double]], batch: Int, context: StepContext) {
        self.inputs = inputs
        self.parameters = parameters
        self.batch = batch
        self.context = context
    }

    /// `1/(1 + e^−x)`, without overflow for large |x|.
    public static func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)) }

    /// `−y·log σ(x) − (1 − y)·log(1 − σ(x))`, computed stably (layer math §8.1).
    public static func binaryCrossEntropy(logit x: Double, label y: Double) -> Double {
        x >= 0 ? x * (1 - y) + log1p(exp(-x)) : -x * y + log1p(exp(x))
    }

    /// `values` shifted by their mean, and `1/√(σ² + epsilon)` with their biased variance `σ²`
    /// (LayerNorm's rows, BatchNorm's columns).
    public static func normalized<C: Collection<Double>>(_ values: C, epsilon: Double) -> (centered: [Double], inverseStd: Double) {
        let n = Double(values.count), mean = values.reduce(0, +) / n
        let centered = values.map { $0 - mean }
        return (centered, 1 / (centered.reduce(0) { $0 + $1 * $1 } / n + epsilon).squareRoot())
    }

    /// `exp(x − max x) / Σ exp(x − max x)`.
    public static func softmax(_ x: [Double]) -> [Double] {
        let top = x.max() ?? 0, e = x.map { exp($0 - top) }, sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
