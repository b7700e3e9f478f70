import Foundation

/// The live progress line of `fit` (iteration, samples/s, loss, ETA) and its records.
struct Progress {
    let total: Int?
    let batch: Int
    let enabled: Bool
    let start = ContinuousClock.now
    var windowStart = ContinuousClock.now
    var windowIterations = 0
    var lastRate = 0.0

    init(total: Int?, batch: Int, enabled: Bool) {
        self.total = total
        self.batch = batch
        self.enabled = enabled
    }

    var elapsed: Double { (ContinuousClock.now - start).inSeconds }

    mutating func step() {
        windowIterations += 1
    }

    /// Closes a display window: its throughput, and the loss of its last iteration (as HugeCTR
    /// displays it).
    mutating func display(iteration: Int, lr: Float, loss: Float) -> TrainingRecord {
        let now = ContinuousClock.now
        let window = (now - windowStart).inSeconds
        let rate = window > 0 ? Double(windowIterations * batch) / window : 0
        let loss = Double(loss)
        lastRate = rate
        windowStart = now
        windowIterations = 0
        if enabled {
            var line = "iter \(iteration)\(total.map { "/\($0)" } ?? "")  \(Self.rate(rate)) samples/s  loss \(String(format: "%.5f", loss))  lr \(lr)"
            if let total, rate > 0 {
                line += "  ETA \(Self.duration(Double((total - iteration) * batch) / rate))"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        return TrainingRecord(iter: iteration, loss: loss, samplesPerSec: rate, lr: Double(lr), elapsedSec: elapsed)
    }

    mutating func evaluation(iteration: Int, metrics: EvalMetrics) -> TrainingRecord {
        note("eval at iter \(iteration): AUC \(String(format: "%.5f", metrics.auc))  average loss \(String(format: "%.5f", metrics.averageLoss))  (\(metrics.samples) samples)")
        // Evaluation time is not training throughput.
        windowStart = ContinuousClock.now
        return TrainingRecord(iter: iteration, loss: metrics.averageLoss, samplesPerSec: lastRate, lr: 0,
                              elapsedSec: elapsed, evalAUC: metrics.auc, evalLoss: metrics.averageLoss)
    }

    func note(_ text: String) {
        if enabled { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    func finish() {
        note("training finished in \(Self.duration(elapsed))")
    }

    static func rate(_ r: Double) -> String {
        r >= 1e6 ? String(format: "%.2fM", r / 1e6) : r >= 1e3 ? String(format: "%.1fk", r / 1e3) : String(format: "%.0f", r)
    }

    static func duration(_ s: Double) -> String {
        let total = Int(s.rounded())
        return total >= 60 ? "\(total / 60)m\(String(format: "%02d", total % 60))s" : String(format: "%.1fs", s)
    }
}
