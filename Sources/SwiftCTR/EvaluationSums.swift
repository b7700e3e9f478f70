/// The sums of an evaluation pass in progress (the AUC histograms stay in the compiled graph):
/// `Model.eval()` adds a batch, `Model.getEvalMetrics()` turns them into metrics and starts over.
///
/// ```swift
/// var sums = EvaluationSums()
/// sums.add(loss: 0.52, samples: 2048)
/// sums.averageLoss   // 0.52
/// ```
struct EvaluationSums: Equatable, Sendable {
    var samples = 0
    var batches = 0
    var lossSum = 0.0

    mutating func add(loss: Float, samples: Int) {
        lossSum += Double(loss)
        self.samples += samples
        batches += 1
    }

    /// The mean over the batches of their loss; 0 before any batch.
    var averageLoss: Double { lossSum / Double(max(batches, 1)) }
}
