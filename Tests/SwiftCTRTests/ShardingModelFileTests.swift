import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// Model files of a sharded model: the merged folders one worker would write, loadable into any
/// number of workers; `fit` with evaluation and snapshots, and resuming into another worker count.
@Suite("Model files and fit on simulated workers")
struct ShardingModelFileTests {
    static func dataset(into folder: String, oneHot: Bool) throws -> (GeneratedDataset, DataReaderParams) {
        let config = SyntheticConfig(numTrain: 240, numEval: 30, slotSizes: ShardingTests.slotSizes,
                                     nnzPerSlot: oneHot ? [1, 1, 1, 1, 1] : [2, 1, 2, 1, 1], denseDim: 3, seed: 4,
                                     trainFiles: 2, evalFiles: 1, i64Keys: false, check: .sum, interactionPairs: 2,
                                     minExpectedCount: 1)
        let dataset = try SyntheticGenerator.generate(config, into: folder)
        return (dataset, DataReaderParams(dataReaderType: .norm, source: [dataset.trainList], evalSource: dataset.evalList,
                                          checkType: .sum))
    }

    static func model(_ type: EmbeddingType, workers: Int, reader: DataReaderParams) throws -> Model {
        try ShardingTests.model(type, workers: workers, optimizer: CreateOptimizer(optimizerType: .adam, updateType: .global),
                                reader: reader)
    }

    static let types = [EmbeddingType.distributedSlotSparseEmbeddingHash, .localizedSlotSparseEmbeddingHash,
                        .localizedSlotSparseEmbeddingOneHot]

    @Test("2 workers save the folders one worker saves; they load into 1 and 3 workers with equal predictions", arguments: types)
    func saveAndLoad(type: EmbeddingType) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (dataset, reader) = try Self.dataset(into: folder + "/data", oneHot: type == .localizedSlotSparseEmbeddingOneHot)
        let one = try Self.model(type, workers: 1, reader: reader), two = try Self.model(type, workers: 2, reader: reader)
        let fitOne = try one.fit(maxIter: 8, display: 2, evalInterval: 4)
        let fitTwo = try two.fit(maxIter: 8, display: 2, evalInterval: 4)
        // fit's losses and evaluations (AUC from the summed histograms, loss weighted by samples).
        #expect(fitOne.count == fitTwo.count && fitOne.contains { $0.evalAUC != nil })
        for (a, b) in zip(fitOne, fitTwo) {
            ShardingTests.expectClose([Float(b.loss), Float(b.evalAUC ?? 0), Float(b.evalLoss ?? 0)],
                                      [Float(a.loss), Float(a.evalAUC ?? 0), Float(a.evalLoss ?? 0)], "record at \(a.iter)")
        }
        try one.saveParamsToFiles(prefix: folder + "/one", iter: 8)
        try two.saveParamsToFiles(prefix: folder + "/two", iter: 8)
        // The same keys in the same order, slot ids and file sizes: one worker's folder.
        #expect(try MF.bytes(folder + "/one0_sparse_8.model/key") == MF.bytes(folder + "/two0_sparse_8.model/key"))
        let slots = "0_sparse_8.model/slot_id"
        #expect(FileManager.default.fileExists(atPath: folder + "/two" + slots) == (type != .distributedSlotSparseEmbeddingHash))
        if type != .distributedSlotSparseEmbeddingHash {
            #expect(try MF.bytes(folder + "/two" + slots) == MF.bytes(folder + "/one" + slots))
        }
        for file in ["0_sparse_8.model/emb_vector", "0_opt_sparse_8.model", "_dense_8.model"] {
            ShardingTests.expectClose(MF.float32s(try MF.bytes(folder + "/two" + file)),
                                      MF.float32s(try MF.bytes(folder + "/one" + file)), file)
        }
        let expected = try two.predict(fileList: dataset.evalList).tasks[0].probabilities
        #expect(expected.count == 30)
        for workers in [1, 3] {
            let loaded = try Self.model(type, workers: workers, reader: reader)
            try loaded.loadWeights(fromSnapshot: folder + "/two")
            // Up to float reassociation: the BLAS may sum a GEMM of other row counts in another order.
            ShardingTests.expectClose(try loaded.predict(fileList: dataset.evalList).tasks[0].probabilities, expected,
                                      "\(workers) workers predict what the 2 that saved predict")
        }
    }

    @Test("a snapshot of 2 workers resumes on 3 and continues as the uninterrupted run", arguments: types)
    func resumeIntoOtherCount(type: EmbeddingType) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (_, reader) = try Self.dataset(into: folder + "/data", oneHot: type == .localizedSlotSparseEmbeddingOneHot)
        let straight = try Self.model(type, workers: 2, reader: reader)
        let reference = try straight.fit(maxIter: 10, display: 1, evalInterval: 0)
        let first = try Self.model(type, workers: 2, reader: reader)
        try first.fit(maxIter: 6, display: 1, evalInterval: 0, snapshot: 5, snapshotPrefix: folder + "/s")
        let resumed = try Self.model(type, workers: 3, reader: reader)
        #expect(try resumed.resume(from: folder + "/s").hasSuffix("s_5.snapshot.json"))
        let rest = try resumed.fit(maxIter: 10, display: 1, evalInterval: 0)
        ShardingTests.expectClose(rest.map { Float($0.loss) }, reference.suffix(rest.count).map { Float($0.loss) },
                                  "losses after resuming")
        ShardingTests.expectClose(try ShardingTests.weights(resumed), try ShardingTests.weights(straight), "weights")
    }
}
