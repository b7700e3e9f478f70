/// One display or evaluation point of `fit`, as written by `swiftctr train --metrics-out`.
///
/// ```swift
/// let records = try model.fit(maxIter: 1000, display: 100, evalInterval: 500)
/// records.last?.trainingThroughput   // samples/s of the training steps, evaluations left out
/// ```
public struct TrainingRecord: Sendable, Codable {
    public var iter: Int
    public var loss: Double
    /// Samples/s of the training steps since the previous display (at an evaluation: that display's).
    public var samplesPerSec: Double
    public var lr: Double
    /// Seconds since `fit` began, evaluations included.
    public var elapsedSec: Double
    /// Samples trained on since `fit` began.
    public var trainingSamples: Int
    /// Seconds spent in training steps since `fit` began: `elapsedSec` without the evaluations.
    public var trainingSec: Double
    /// The evaluation's AUC (with several tasks, their mean).
    public var evalAUC: Double?
    public var evalLoss: Double?
    /// Each task's AUC by label name, for a model with several tasks.
    public var evalTaskAUCs: [String: Double]?

    /// Samples per second of the training steps so far, evaluation time excluded; 0 before any.
    public var trainingThroughput: Double { trainingSec > 0 ? Double(trainingSamples) / trainingSec : 0 }

    enum CodingKeys: String, CodingKey {
        case iter, loss, lr
        case samplesPerSec = "samples_per_sec"
        case elapsedSec = "elapsed_sec"
        case trainingSamples = "training_samples"
        case trainingSec = "training_sec"
        case evalAUC = "eval_auc"
        case evalLoss = "eval_loss"
        case evalTaskAUCs = "eval_task_aucs"
    }
}
