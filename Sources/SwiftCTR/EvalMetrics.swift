/// The result of one evaluation pass.
///
/// ```swift
/// let metrics = try model.evaluate(batches: 10)
/// print(metrics.auc, metrics.averageLoss, metrics.samples)
/// ```
public struct EvalMetrics: Sendable, Codable {
    public var auc: Double
    public var averageLoss: Double
    public var samples: Int
}
