import CTRCore
import Foundation

/// The probabilities a model gives a set of samples, per task, with the samples' labels
/// (`Model.predict(fileList:)`), and the metrics computed from them exactly in float64.
///
/// ```swift
/// let result = try model.predict(fileList: "data/eval_list.txt")
/// let task = result.tasks[0]             // the only task of a single-label model
/// print(result.samples, task.auc, task.logLoss)
/// task.probabilities[3]                  // sample 3's click probability (width 1)
/// ```
public struct Predictions: Sendable, Equatable {
    /// One task: a loss layer and its label.
    public struct Task: Sendable, Equatable {
        public var label: String
        /// Probabilities per sample: 1 for BinaryCrossEntropyLoss, the classes for
        /// CrossEntropyLoss (softmax), the label's width for MultiCrossEntropyLoss.
        public var width: Int
        /// Sample-major, `samples × width`.
        public var probabilities: [Float] = []
        public var labelWidth: Int
        /// Sample-major, `samples × labelWidth`.
        public var labels: [Float] = []
        /// Softmax over the columns (CrossEntropyLoss) rather than one sigmoid per column.
        public var categorical: Bool
        /// The (probability column, label column) pairs whose AUCs average into the task's AUC,
        /// as in `Model.evaluate`.
        public var aucColumns: [Pair]

        public struct Pair: Sendable, Equatable {
            public var prediction: Int
            public var label: Int
        }

        /// Exact ROC AUC (ties as one point), the mean over `aucColumns`.
        public var auc: Double {
            let n = probabilities.count / max(width, 1)
            return aucColumns.reduce(0) { sum, pair in
                let p = (0..<n).map { probabilities[$0 * width + pair.prediction] }
                let y = (0..<n).map { labels[$0 * labelWidth + pair.label] }
                return sum + exactAUC(predictions: p, labels: y)
            } / Double(max(aucColumns.count, 1))
        }

        /// The mean cross entropy per sample, probabilities clamped to [1e-7, 1 − 1e-7]: binary
        /// per column (averaged over the columns), or categorical against a class index (label
        /// width 1) or a distribution over the classes.
        public var logLoss: Double {
            let n = probabilities.count / max(width, 1)
            guard n > 0 else { return .nan }
            func log(_ p: Float) -> Double { Foundation.log(min(max(Double(p), 1e-7), 1 - 1e-7)) }
            var total = 0.0
            for s in 0..<n {
                let p = probabilities[s * width..<(s + 1) * width], y = labels[s * labelWidth..<(s + 1) * labelWidth]
                if !categorical {
                    total -= zip(p, y).reduce(0) { $0 + Double($1.1) * log($1.0) + Double(1 - $1.1) * log(1 - $1.0) } / Double(width)
                } else if labelWidth == 1 {
                    total -= log(p[p.startIndex + min(max(Int(y[y.startIndex].rounded()), 0), width - 1)])
                } else {
                    total -= zip(p, y).reduce(0) { $0 + Double($1.1) * log($1.0) }
                }
            }
            return total / Double(n)
        }
    }

    public var samples = 0
    /// One per loss, in the order of their label names.
    public var tasks: [Task]
}
