import Foundation

/// The live progress line of `fit` (iteration, samples/s, loss, ETA) and its records. Rates count
/// training steps only: `pauseForEvaluation()` stops the clocks of the display window and of the
/// run's total until `evaluation(iteration:metrics:)` restarts them.
///
/// ```swift
/// var progress = Progress(total: 1000, batch: 2048, enabled: true)
/// progress.step(samples: 2048)
/// let record = progress.display(iteration: 1, lr: 0.001, loss: 0.69)
/// ```
struct Progress {
    let total: Int?
    let batch: Int
    let enabled: Bool
    /// Seconds since `fit` began; tests pass a clock they move by hand.
    let clock: () -> Double
    /// The steps since the last display.
    var window: ThroughputWindow
    /// Every step of the run, for the records' `trainingSamples` and `trainingSec`.
    var training: ThroughputWindow
    var lastRate = 0.0

    init(total: Int?, batch: Int, enabled: Bool, clock: @escaping () -> Double = Progress.monotonicClock()) {
        self.total = total
        self.batch = batch
        self.enabled = enabled
        self.clock = clock
        let now = clock()
        window = ThroughputWindow(at: now)
        training = ThroughputWindow(at: now)
    }

    /// Seconds since the call, on the continuous clock.
    static func monotonicClock() -> () -> Double {
        let start = ContinuousClock.now
        return { (ContinuousClock.now - start).inSeconds }
    }

    mutating func step(samples: Int) {
        window.count(samples)
        training.count(samples)
    }

    /// Closes a display window: its throughput, and the loss of its last iteration (as HugeCTR
    /// displays it).
    mutating func display(iteration: Int, lr: Float, loss: Float) -> TrainingRecord {
        let now = clock()
        let rate = window.rate(at: now)
        let loss = Double(loss)
        lastRate = rate
        window = ThroughputWindow(at: now)
        if enabled {
            var line = "iter \(iteration)\(total.map { "/\($0)" } ?? "")  \(Self.rate(rate)) samples/s  loss \(String(format: "%.5f", loss))  lr \(lr)"
            if let total, rate > 0 {
                line += "  ETA \(Self.duration(Double((total - iteration) * batch) / rate))"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        return record(iteration: iteration, loss: loss, rate: rate, lr: Double(lr), at: now)
    }

    /// Stops the training clocks; call it once the device finished the steps before.
    mutating func pauseForEvaluation() {
        let now = clock()
        window.pause(at: now)
        training.pause(at: now)
    }

    /// Reports an evaluation and restarts the training clocks.
    mutating func evaluation(iteration: Int, metrics: EvalMetrics) -> TrainingRecord {
        let tasks = metrics.taskAUCs.count > 1
            ? " (" + metrics.taskAUCs.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.5f", $0.value))" }
                .joined(separator: ", ") + ")"
            : ""
        note("eval at iter \(iteration): AUC \(String(format: "%.5f", metrics.auc))\(tasks)  average loss \(String(format: "%.5f", metrics.averageLoss))  (\(metrics.samples) samples)")
        let now = clock()
        window.resume(at: now)
        training.resume(at: now)
        var record = record(iteration: iteration, loss: metrics.averageLoss, rate: lastRate, lr: 0, at: now)
        record.evalAUC = metrics.auc
        record.evalLoss = metrics.averageLoss
        if metrics.taskAUCs.count > 1 { record.evalTaskAUCs = metrics.taskAUCs }
        return record
    }

    private func record(iteration: Int, loss: Double, rate: Double, lr: Double, at now: Double) -> TrainingRecord {
        TrainingRecord(iter: iteration, loss: loss, samplesPerSec: rate, lr: lr, elapsedSec: now,
                       trainingSamples: training.samples, trainingSec: training.seconds(at: now))
    }

    func note(_ text: String) {
        if enabled { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    func finish() {
        note("training finished in \(Self.duration(clock()))")
    }

    static func rate(_ r: Double) -> String {
        r >= 1e6 ? String(format: "%.2fM", r / 1e6) : r >= 1e3 ? String(format: "%.1fk", r / 1e3) : String(format: "%.0f", r)
    }

    static func duration(_ s: Double) -> String {
        let total = Int(s.rounded())
        return total >= 60 ? "\(total / 60)m\(String(format: "%02d", total % 60))s" : String(format: "%.1fs", s)
    }
}
