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

/// The AUC histogram both backends share: a prediction p ∈ [0, 1] goes to bin `bits(p) >> 10`,
/// which keeps 13 mantissa bits (relative resolution 1.2·10⁻⁴ at every scale), so only pairs closer
/// than that count as ties. Layout: positive weights, negative weights, then one NaN counter.
public enum AUCHistogram {
    public static let shift: UInt32 = 10
    public static let bins = Int(Float(1).bitPattern >> shift) + 1
    public static let count = 2 * bins + 1

    /// The bin of `p`, clamped into [0, 1]; nil for NaN.
    @inline(__always)
    public static func bin(_ p: Float) -> Int? {
        p.isNaN ? nil : Int(min(max(p, 0), 1).bitPattern >> shift)
    }

    /// The area from ascending per-bin weights: Σ_b pos[b]·(neg below b + neg[b]/2) / (P·N).
    public static func area(_ h: UnsafeMutablePointer<Double>) -> Double {
        guard h[2 * bins] == 0 else { return .nan }
        var below = 0.0, area = 0.0, positives = 0.0
        for b in 0..<bins {
            let p = h[b], n = h[bins + b]
            area += p * (below + 0.5 * n)
            below += n
            positives += p
        }
        return positives > 0 && below > 0 ? area / (positives * below) : .nan
    }
}
