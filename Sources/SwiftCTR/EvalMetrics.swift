/// The result of one evaluation pass.
///
/// ```swift
/// let metrics = try model.evaluate(batches: 10)
/// print(metrics.auc, metrics.averageLoss, metrics.samples)
/// metrics.taskAUCs["clicked"]   // one task's AUC in a multi-task model
/// ```
public struct EvalMetrics: Sendable, Codable {
    /// The AUC; with several tasks, the mean of `taskAUCs`.
    public var auc: Double
    /// The mean over the evaluation batches of `Σ weight·loss` over the tasks.
    public var averageLoss: Double
    public var samples: Int
    /// Each task's AUC, by its label name.
    public var taskAUCs: [String: Double] = [:]
}
