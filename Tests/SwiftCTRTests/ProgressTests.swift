import Foundation
@testable import SwiftCTR
import Testing

/// A clock the test moves by hand, so no test depends on how long anything takes.
private final class ManualClock {
    var now = 0.0
}

@Suite("Progress and throughput")
struct ProgressTests {
    @Test func pausedTimeIsNotTrainingTime() {
        var window = ThroughputWindow(at: 0)
        window.count(2048)
        window.pause(at: 1)
        window.resume(at: 4)
        window.count(2048)
        #expect(window.seconds(at: 5) == 2)
        #expect(window.rate(at: 5) == 2048)
    }

    @Test func pauseAndResumeTwiceCountOnce() {
        var window = ThroughputWindow(at: 10)
        window.count(300)
        window.pause(at: 11)
        window.pause(at: 15)
        window.resume(at: 20)
        window.resume(at: 25)
        #expect(window.seconds(at: 22) == 3)
        #expect(window.rate(at: 22) == 100)
    }

    @Test func noTrainingTimeMeansNoRate() {
        let window = ThroughputWindow(at: 3)
        #expect(window.rate(at: 3) == 0)
    }

    /// Display every 2 steps, evaluation after step 3 (between displays), each step 1 s, the
    /// evaluation 10 s. The display after it must see 2 steps in 2 training seconds; counting
    /// from the evaluation's end (as before) gave 2 steps in 1 s.
    @Test func displayAfterAnEvaluationCountsOnlyTrainingSteps() {
        let clock = ManualClock()
        var progress = Progress(total: 4, batch: 100, enabled: false, clock: { clock.now })
        var records: [TrainingRecord] = []
        for iteration in 1...4 {
            clock.now += 1
            progress.step(samples: 100)
            if iteration % 2 == 0 { records.append(progress.display(iteration: iteration, lr: 0.1, loss: 0.5)) }
            if iteration == 3 {
                progress.pauseForEvaluation()
                clock.now += 10
                records.append(progress.evaluation(iteration: 3, metrics: EvalMetrics(auc: 0.7, averageLoss: 0.6, samples: 50)))
            }
        }
        #expect(records.map(\.iter) == [2, 3, 4])
        #expect(records.map(\.samplesPerSec) == [100, 100, 100])
        #expect(records.map(\.elapsedSec) == [2, 13, 14])
        #expect(records[1].evalAUC == 0.7)
    }

    /// The end-of-run figure of `swiftctr train`: training samples over training seconds, however
    /// long the evaluations took and however the display windows were spread.
    @Test func trainingThroughputLeavesEvaluationsOut() throws {
        let clock = ManualClock()
        var progress = Progress(total: nil, batch: 64, enabled: false, clock: { clock.now })
        var last: TrainingRecord?
        for iteration in 1...6 {
            clock.now += iteration <= 3 ? 0.5 : 1.5   // a slow second half
            progress.step(samples: iteration == 6 ? 32 : 64)
            if iteration % 3 == 0 {
                _ = progress.display(iteration: iteration, lr: 0.1, loss: 0.5)
                progress.pauseForEvaluation()
                clock.now += 100
                last = progress.evaluation(iteration: iteration, metrics: EvalMetrics(auc: 0.7, averageLoss: 0.6, samples: 50))
            }
        }
        let record = try #require(last)
        #expect(record.trainingSamples == 5 * 64 + 32)
        #expect(record.trainingSec == 3 * 0.5 + 3 * 1.5)
        #expect(record.trainingThroughput == Double(5 * 64 + 32) / 6)
        #expect(record.elapsedSec == 206)
    }

    @Test func recordWithoutTrainingTimeHasNoThroughput() {
        let record = TrainingRecord(iter: 0, loss: 0, samplesPerSec: 0, lr: 0, elapsedSec: 0, trainingSamples: 0, trainingSec: 0)
        #expect(record.trainingThroughput == 0)
    }

    @Test func metricsLinesCarryTheTrainingTotals() throws {
        let record = TrainingRecord(iter: 50, loss: 0.5, samplesPerSec: 10, lr: 0.001, elapsedSec: 7, trainingSamples: 1024,
                                    trainingSec: 4)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let line = String(decoding: try encoder.encode(record), as: UTF8.self)
        #expect(line.contains(#""training_samples":1024"#))
        #expect(line.contains(#""training_sec":4"#))
    }
}
