import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// `swiftctr train MODEL.json --workers N` as a process: a graph JSON with a Localized embedding
/// trained on N simulated workers gives one worker's evaluation, and a batch size that does not
/// split is refused with the fix.
@Suite("swiftctr train --workers")
struct ShardingCLITests {
    @Test("--workers 2 evaluates as --workers 1; --workers 3 with a batch of 32 is a clear error")
    func workers() throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotKillTests.binary),
                     "\(SnapshotKillTests.binary) is missing; build it with `swift build` before `swift test`.")
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try ShardingModelFileTests.dataset(into: folder + "/data", oneHot: false)
        let model = try ShardingTests.model(.localizedSlotSparseEmbeddingHash, workers: 1,
                                            optimizer: CreateOptimizer(optimizerType: .adam, updateType: .global))
        try model.graphToJSON(graphConfigFile: folder + "/graph.json")
        func train(_ workers: Int) throws -> EvaluatePredictCLITests.Run {
            try EvaluatePredictCLITests.swiftctr(["train", "graph.json", "--data", "data", "--max-iter", "6", "--batch-size", "32",
                                                  "--eval-interval", "6", "--seed", "5", "--workers", "\(workers)",
                                                  "--plot", "curve.svg"], in: folder)
        }
        let one = try train(1), two = try train(2)
        #expect(one.status == 0 && two.status == 0, "\(one.errors)\(two.errors)")
        #expect(two.output.contains("workers: 2 simulated"))
        let auc = { (run: EvaluatePredictCLITests.Run) in run.output.split(separator: "\n").first { $0.hasPrefix("eval AUC") } }
        #expect(auc(one) != nil && auc(one) == auc(two), "\(one.output)\n\(two.output)")
        let three = try train(3)
        #expect(three.status != 0)
        #expect(three.errors.contains("batchsize 32 must be a multiple of the 3 devices"), "\(three.errors)")
    }
}
