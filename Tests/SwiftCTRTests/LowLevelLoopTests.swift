import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// HugeCTR's low-level loop (`startDataReading`, `train()`, `eval()`, `getEvalMetrics()`) against
/// `fit` on the CPU with one seed: the same losses and metrics, compared with `==`.
@Suite("Low-level training loop")
struct LowLevelLoopTests {
    static func solver(repeatDataset: Bool = true) -> Solver {
        var solver = MF.solver(repeatDataset: repeatDataset)
        solver.metricsSpec = [.averageLoss: 0, .auc: 1]
        return solver
    }

    @Test("repeat mode: train() and eval() give fit's losses, AUCs and average losses")
    func repeatMode() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let reference = try MF.model(dataset, solver: Self.solver()).fit(maxIter: 12, display: 1, evalInterval: 5)
        let model = try MF.model(dataset, solver: Self.solver())
        try model.startDataReading()
        var losses: [Double] = [], metrics: [[(String, Double)]] = []
        for i in 0..<12 {
            #expect(try model.train())
            losses.append(Double(model.currentLoss))
            if (i + 1) % 5 == 0 {
                for _ in 0..<model.solver.maxEvalBatches { #expect(try model.eval()) }
                metrics.append(try model.getEvalMetrics())
            }
        }
        #expect(losses == reference.filter { $0.evalAUC == nil }.map(\.loss))
        let evaluations = reference.filter { $0.evalAUC != nil }
        #expect(evaluations.count == 2 && metrics.count == 2)
        for (record, metric) in zip(evaluations, metrics) {
            #expect(metric.map(\.0) == ["AUC", "AverageLoss"])
            #expect(metric.map(\.1) == [record.evalAUC!, record.evalLoss!])
        }
    }

    @Test("epoch mode: train() returns false at the end of each pass, having trained nothing")
    func epochMode() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let solver = Self.solver(repeatDataset: false)
        let reference = try MF.model(dataset, solver: solver).fit(numEpochs: 2, display: 1, evalInterval: 0)
        let model = try MF.model(dataset, solver: solver)
        try model.startDataReading()
        var passes: [[Double]] = []
        for _ in 0..<2 {
            var losses: [Double] = []
            while try model.train() { losses.append(Double(model.currentLoss)) }
            passes.append(losses)
        }
        // Two workers of 300 samples: 4 full batches of 64 each per pass, the partial ones dropped.
        #expect(passes.map(\.count) == [8, 8])
        #expect(passes.flatMap { $0 } == reference.map(\.loss))
        #expect(model.position.epoch == 2 && model.position.iteration == 16)
    }

    @Test("eval() returns false at the end of the evaluation data and then starts over")
    func evalEnds() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let model = try MF.model(dataset, solver: MF.solver(repeatDataset: false))
        try model.startDataReading()
        // 256 evaluation samples in batches of 64.
        var batches = 0
        while try model.eval() { batches += 1 }
        #expect(batches == 4)
        let first = try model.getEvalMetrics()
        #expect(first.map(\.0) == ["AUC"])
        while try model.eval() {}
        #expect(try model.getEvalMetrics().map(\.1) == first.map(\.1), "the same weights on the same data")
        #expect(try model.evaluate(batches: 100).samples == 256)
    }

    @Test("the loop continues a resumed snapshot as fit does")
    func resumed() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let reference = try MF.model(dataset).fit(maxIter: 10, display: 1, evalInterval: 0, snapshot: 4,
                                                  snapshotPrefix: folder + "/a")
        let model = try MF.model(dataset)
        try model.resume(from: folder + "/a_4.snapshot.json")
        try model.startDataReading()
        var losses: [Double] = []
        for _ in 0..<5 {
            try model.train()
            losses.append(Double(model.currentLoss))
        }
        #expect(losses == reference.suffix(5).map(\.loss))
    }

    @Test("misuse is an error that says what to call")
    func errors() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let model = try MF.model(dataset)
        #expect { try model.train() } throws: { ($0 as? SwiftCTRError)?.message.contains("call startDataReading() first") == true }
        #expect { try model.getEvalMetrics() } throws: { ($0 as? SwiftCTRError)?.message.contains("Call eval() first") == true }
        let uncompiled = try Model(MF.solver(), DataReaderParams(dataReaderType: .norm, source: [dataset.trainList],
                                                                 evalSource: dataset.evalList, checkType: .sum),
                                   CreateOptimizer(optimizerType: .sgd))
        #expect { try uncompiled.startDataReading() } throws: { ($0 as? SwiftCTRError)?.message.contains("compile()") == true }
    }
}
