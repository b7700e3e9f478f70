import CTRCore

/// Evaluation metrics.
extension CPUBackend {
    public func aucAccumulate(predictions: Tensor, predictionStride: Int, labels: Tensor, labelStride: Int, count: Int,
                              histogram: Tensor) {
        let p = predictions.hostPointer(as: Float.self), l = labels.hostPointer(as: Float.self)
        let h = histogram.hostPointer(as: Double.self)
        for i in 0..<count {
            let label = Double(l[i * labelStride])
            guard label >= -0.5 else { continue }
            guard let bin = AUCHistogram.bin(p[i * predictionStride]) else {
                h[2 * AUCHistogram.bins] += 1
                continue
            }
            h[bin] += label
            h[AUCHistogram.bins + bin] += 1 - label
        }
    }

    public func aucFromHistogram(_ histogram: Tensor) -> Double {
        let h = histogram.hostPointer(as: Double.self)
        defer { h.update(repeating: 0, count: AUCHistogram.count) }
        return AUCHistogram.area(h)
    }
}
