import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// `Model.predict`, `exportPredictions`, `loadWeights(fromSnapshot:)` and the metrics of
/// `Predictions`.
@Suite("Predictions")
struct PredictionTests {
    @Test("a saved and loaded model predicts exactly what the trained one does")
    func savedAndLoaded() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let trained = try MF.model(dataset)
        try trained.fit(maxIter: 8, display: 0, evalInterval: 0, snapshot: 7, snapshotPrefix: folder + "/s")
        let reference = try trained.predict(fileList: dataset.evalList)
        #expect(reference.samples == 256 && reference.tasks.count == 1)
        #expect(reference.tasks[0].probabilities.count == 256 && reference.tasks[0].labels.count == 256)
        #expect(reference.tasks[0].probabilities.allSatisfy { $0 > 0 && $0 < 1 })

        let fresh = try MF.model(dataset, solver: MF.solver(seed: 123))
        #expect(try fresh.predict(fileList: dataset.evalList) != reference, "other initial weights")
        try fresh.loadDenseWeights(folder + "/s_dense_7.model")
        try fresh.loadSparseWeights([folder + "/s0_sparse_7.model", folder + "/s1_sparse_7.model"])
        #expect(try fresh.predict(fileList: dataset.evalList) == reference)

        let fromSnapshot = try MF.model(dataset, solver: MF.solver(seed: 77))
        #expect(try fromSnapshot.loadWeights(fromSnapshot: folder + "/s") == folder + "/s_7.snapshot.json")
        #expect(try fromSnapshot.predict(fileList: dataset.evalList) == reference)
        // The metrics agree with the model's evaluation (histogram AUC; four full batches of 64).
        let metrics = try trained.evaluate(batches: 4)
        #expect(abs(reference.tasks[0].auc - metrics.auc) < 1e-3)
        #expect(abs(reference.tasks[0].logLoss - metrics.averageLoss) < 1e-4)
        #expect(try trained.predict(fileList: dataset.evalList, maxBatches: 2).samples == 128)
    }

    @Test("exportPredictions appends the last evaluation batch's probabilities and labels as text")
    func export() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let model = try MF.model(dataset, solver: MF.solver(repeatDataset: false))
        let predictionFile = folder + "/pred.txt", labelFile = folder + "/label.txt"
        #expect(try !model.exportPredictions(outputPredictionFile: predictionFile, outputLabelFile: labelFile))
        try model.startDataReading()
        #expect(try model.eval())
        for _ in 0..<2 { #expect(try model.exportPredictions(outputPredictionFile: predictionFile, outputLabelFile: labelFile)) }
        func numbers(_ path: String) throws -> [Float] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: " ").map { Float(String($0))! }
        }
        let first = try model.predict(fileList: dataset.evalList, maxBatches: 1).tasks[0]
        #expect(try numbers(predictionFile) == first.probabilities + first.probabilities)
        #expect(try numbers(labelFile) == first.labels + first.labels)
        #expect(try String(contentsOfFile: labelFile, encoding: .utf8).hasSuffix(" "))
        while try model.eval() {}
        #expect(try !model.exportPredictions(outputPredictionFile: predictionFile, outputLabelFile: labelFile))
    }

    @Test("predict(batch:) checks the batch; loadWeights(fromSnapshot:) names what is missing")
    func errors() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try MF.dataset(into: folder + "/data")
        let model = try MF.model(dataset)
        let bad = Batch(count: 2, labels: [1, 0], dense: [0, 0, 0], sparse: [])
        #expect { try model.predict(batch: bad) } throws: {
            ($0 as? SwiftCTRError)?.message.hasPrefix("Model.predict(batch:): expected 8 dense values") == true
        }
        #expect { try model.loadWeights(fromSnapshot: folder + "/none") } throws: {
            ($0 as? SwiftCTRError)?.message.contains("no complete snapshot with prefix") == true
        }
    }

    @Test("AUC and logloss of a task, by hand")
    func metrics() {
        let binary = Predictions.Task(label: "y", width: 1, probabilities: [0.9, 0.2, 0.6, 0.4], labelWidth: 1,
                                      labels: [1, 0, 0, 1], categorical: false, aucColumns: [.init(prediction: 0, label: 0)])
        // Positive–negative pairs ranked right: (0.9, 0.2), (0.9, 0.6), (0.4, 0.2) of four.
        #expect(binary.auc == 0.75)
        let expected = -(log(0.9) + log(0.8) + log(0.4) + log(0.4)) / 4
        #expect(abs(binary.logLoss - expected) < 1e-6)
        let classes = Predictions.Task(label: "y", width: 2, probabilities: [0.3, 0.7, 0.8, 0.2], labelWidth: 1,
                                       labels: [1, 0], categorical: true, aucColumns: [.init(prediction: 1, label: 0)])
        #expect(classes.auc == 1)
        #expect(abs(classes.logLoss + (log(0.7) + log(0.8)) / 2) < 1e-6)
    }
}
