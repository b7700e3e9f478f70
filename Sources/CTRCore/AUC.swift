/// Exact ROC AUC, equal to `sklearn.metrics.roc_auc_score` including ties: a run of equal
/// predictions is one ROC point and the curve is integrated with trapezoids. Fractional labels act
/// as weights (`y` counts as positive, `1 - y` as negative). Returns `.nan` when there is no
/// positive or no negative weight, or when a prediction is NaN.
///
/// ```swift
/// exactAUC(predictions: [0.1, 0.4, 0.4, 0.8], labels: [0, 0, 1, 1])   // 0.875
/// ```
public func exactAUC(predictions: [Float], labels: [Float]) -> Double {
    aucOfSorted(pairs(predictions, labels))
}

/// ``exactAUC(predictions:labels:)`` for double-precision predictions.
///
/// ```swift
/// exactAUC(predictions: [0.2, 0.9] as [Double], labels: [0, 1])   // 1.0
/// ```
public func exactAUC(predictions: [Double], labels: [Float]) -> Double {
    aucOfSorted(pairs(predictions, labels))
}

private func pairs<P: BinaryFloatingPoint>(_ predictions: [P], _ labels: [Float]) -> [(Double, Double)]? {
    precondition(predictions.count == labels.count,
                 "exactAUC: \(predictions.count) predictions but \(labels.count) labels")
    var result: [(Double, Double)] = []
    result.reserveCapacity(predictions.count)
    for i in predictions.indices {
        let p = Double(predictions[i])
        if p.isNaN { return nil }
        result.append((p, Double(labels[i])))
    }
    // Descending: the ROC curve starts at the highest threshold.
    result.sort { $0.0 > $1.0 }
    return result
}

private func aucOfSorted(_ sorted: [(Double, Double)]?) -> Double {
    guard let sorted else { return .nan }
    var truePositives = 0.0
    var falsePositives = 0.0
    var area = 0.0
    var i = 0
    while i < sorted.count {
        let threshold = sorted[i].0
        var runPositives = 0.0
        var runNegatives = 0.0
        while i < sorted.count && sorted[i].0 == threshold {
            runPositives += sorted[i].1
            runNegatives += 1 - sorted[i].1
            i += 1
        }
        // Trapezoid between this ROC point and the previous one.
        area += runNegatives * (truePositives + runPositives / 2)
        truePositives += runPositives
        falsePositives += runNegatives
    }
    guard truePositives > 0, falsePositives > 0 else { return .nan }
    return area / (truePositives * falsePositives)
}
