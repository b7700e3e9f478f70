/// Evaluation metrics accumulated on the backend.
public protocol MetricKernels: AnyObject, Sendable {
    /// Adds `count` predictions in [0, 1] (`predictionStride` apart) to an AUC histogram
    /// (`AUCHistogram.count` float64 values, zero to start): each prediction lands in the bin of
    /// its top float bits with weight `label` on the positive side and `1 − label` on the negative
    /// side (labels `labelStride` apart). A label below −0.5 marks a missing label: its pair is
    /// skipped (MultiCrossEntropyLoss's convention).
    func aucAccumulate(predictions: Tensor, predictionStride: Int, labels: Tensor, labelStride: Int, count: Int,
                       histogram: Tensor)
    /// The AUC of everything accumulated (NaN without positives or negatives, or after a NaN
    /// prediction); zeroes the histogram.
    func aucFromHistogram(_ histogram: Tensor) -> Double
}

extension MetricKernels {
    /// `aucAccumulate` over contiguous predictions.
    public func aucAccumulate(predictions: Tensor, labels: Tensor, labelStride: Int, count: Int, histogram: Tensor) {
        aucAccumulate(predictions: predictions, predictionStride: 1, labels: labels, labelStride: labelStride, count: count,
                      histogram: histogram)
    }
}
