import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// Numerical faults: a NaN or Inf loss stops training with an error naming the iteration and the
/// first non-finite tensor, no snapshot is written from a diverged model, and the newest complete
/// snapshot loads and trains on.
@Suite("Numerical faults")
struct NumericFaultTests {
    /// The model-file tests' data in one training file (so batch k holds samples 64(k−1) ..< 64k),
    /// with dense feature 2 of training sample `poisoned` set to NaN.
    static func dataset(into folder: String, poisoned: Int?) throws -> GeneratedDataset {
        let config = SyntheticConfig(numTrain: 600, numEval: 256, slotSizes: MF.slotSizes, nnzPerSlot: [2, 1, 1, 2, 1],
                                     denseDim: 4, seed: 5, trainFiles: 1, evalFiles: 1, i64Keys: false, check: .sum,
                                     interactionPairs: 3, minExpectedCount: 1)
        let dataset = try SyntheticGenerator.generate(config, into: folder)
        guard let poisoned else { return dataset }
        let path = dataset.trainFiles[0]
        let file = try NormFile(path: path, layout: MF.input.layout, i64Keys: false, check: .sum)
        var samples: [(labels: [Float], dense: [Float], slots: [[Int64]])] = []
        while let batch = try file.readBatch(maxCount: 100) {
            for s in 0..<batch.count {
                let slots = zip(batch.sparse, [3, 2]).flatMap { sparse, count in (0..<count).map { Array(sparse.row(s * count + $0)) } }
                samples.append(([batch.labels[s]], Array(batch.dense[4 * s..<4 * s + 4]), slots))
            }
        }
        samples[poisoned].dense[2] = .nan
        let writer = try NormWriter(path: path, labelDim: 1, denseDim: 4, slotNum: 5, i64Keys: false, check: .sum)
        for sample in samples { try writer.append(labels: sample.labels, dense: sample.dense, slots: sample.slots) }
        try writer.finish()
        return dataset
    }

    static func numericError(_ body: () throws -> Void) -> String? {
        do {
            try body()
        } catch let error as SwiftCTRError where error.kind == .numeric {
            return error.message
        } catch {
            return "unexpected \(error)"
        }
        return nil
    }

    @Test("a NaN in the data stops fit at its iteration; the newest snapshot stays finite, loads and trains on")
    func poisonedData() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Sample 394 is sample 10 of the seventh batch.
        let dataset = try Self.dataset(into: folder + "/data", poisoned: 6 * 64 + 10)
        let model = try MF.model(dataset)
        // Checked at the displays (5, 10) and before the snapshots after iterations 4, 7, 10.
        let message = try #require(Self.numericError {
            try model.fit(maxIter: 20, display: 5, evalInterval: 0, snapshot: 3, snapshotPrefix: folder + "/s")
        })
        #expect(message.hasPrefix("loss is NaN at iteration 7 (it was finite at iteration 5, the check before): training diverged. The batch of iteration 7 re-run with checks on the weights after its update: the batch's dense input 'dense' holds NaN (sample 10, feature 2)."))
        #expect(message.contains("The newest complete snapshot, '\(folder)/s_3.snapshot.json', holds finite weights"))
        #expect(try Model.newestSnapshot(prefix: folder + "/s") == folder + "/s_3.snapshot.json")
        let resumed = try MF.model(dataset)
        try resumed.resume(from: folder + "/s")
        let records = try resumed.fit(maxIter: 6, display: 1, evalInterval: 0)
        #expect(records.map(\.iter) == [5, 6] && records.allSatisfy { $0.loss.isFinite })
    }

    @Test("every finiteCheckInterval iterations, in fit and the low-level train(); every step before its update with 1")
    func interval() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try Self.dataset(into: folder + "/data", poisoned: 6 * 64 + 10)
        let model = try MF.model(dataset)
        model.finiteCheckInterval = 3
        let message = try #require(Self.numericError { try model.fit(maxIter: 20, display: 0, evalInterval: 0) })
        // The check after iteration 9 re-runs batch 9, which is finite; the weights are not.
        #expect(message.hasPrefix("loss is NaN at iteration 9 (it was finite at iteration 6, the check before)"))
        #expect(message.contains("the first non-finite output is embedding 'emb1'"))
        #expect(message.contains("Non-finite dense weights: fc1.weight, fc1.bias"))
        #expect(message.contains("For the exact step, set finiteCheckInterval = 1"))
        let low = try MF.model(dataset)
        low.finiteCheckInterval = 1
        try low.startDataReading()
        for _ in 0..<6 { try low.train() }
        let lowMessage = try #require(Self.numericError { try low.train() })
        #expect(lowMessage.hasPrefix("loss is NaN at iteration 7 (it was finite at iteration 6, the check before): training diverged. The step stopped before its update, so the weights are those that produced it. Its forward pass re-run with checks: the batch's dense input 'dense' holds NaN (sample 10, feature 2)."))
        // Stopped before the update: six steps taken, every weight finite.
        #expect(low.step == 6 && low.graph!.nonFiniteParameters().isEmpty)
    }

    @Test("a huge learning rate: the error names the first layer whose output went non-finite")
    func hugeLearningRate() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try Self.dataset(into: folder + "/data", poisoned: nil)
        var solver = MF.solver()
        solver.lr = 1e30
        solver.warmupSteps = 1
        solver.decayStart = 0
        let model = try MF.model(dataset, solver: solver)
        model.finiteCheckInterval = 1
        let message = try #require(Self.numericError { try model.fit(maxIter: 20, display: 0, evalInterval: 0) })
        #expect(message.contains("training diverged. The step stopped before its update, so the weights are those that produced it. Its forward pass re-run with checks: the first non-finite output is '"))
        #expect(message.contains("' of layer '") && message.contains("The dense weights are finite."))
        #expect(message.contains("Lower lr (now 1e+30)"))
    }

    @Test("no snapshot is written from non-finite weights")
    func weightsBeforeSnapshot() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try Self.dataset(into: folder + "/data", poisoned: nil)
        let model = try MF.model(dataset)
        try model.checkWeights(iteration: 1, lr: 0.01, snapshotPrefix: folder + "/s")
        let weight = model.graph!.parameters.first { $0.name == "mc1.1.bias" }!
        model.backend.upload([1, .infinity], to: weight.value)
        let message = try #require(Self.numericError { try model.checkWeights(iteration: 4, lr: 0.01, snapshotPrefix: folder + "/s") })
        #expect(message.hasPrefix("the dense weights mc1.1.bias hold NaN or Inf after iteration 4: an update diverged, so no snapshot was written."))
    }
}
