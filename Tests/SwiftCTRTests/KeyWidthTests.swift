import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// I32 and I64 keys end to end (`i64_input_key`, API spec §5.4, §4.5): Norm files of either
/// width, the tables, the model files (keys always int64, truncated to 32 bits on loading into an
/// I32 model) and hand-built batches.
@Suite("Key widths")
struct KeyWidthTests {
    static func dataset(into folder: String, i64Keys: Bool) throws -> GeneratedDataset {
        let config = SyntheticConfig(numTrain: 600, numEval: 256, slotSizes: MF.slotSizes, nnzPerSlot: [2, 1, 1, 2, 1],
                                     denseDim: 4, seed: 5, trainFiles: 2, evalFiles: 1, i64Keys: i64Keys, check: .sum,
                                     interactionPairs: 3, minExpectedCount: 1)
        return try SyntheticGenerator.generate(config, into: folder)
    }

    static func model(_ dataset: GeneratedDataset, i64Keys: Bool) throws -> Model {
        var solver = MF.solver()
        solver.i64InputKey = i64Keys
        return try MF.model(dataset, solver: solver)
    }

    static func fileSize(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    }

    @Test("I32 and I64 files of the same samples train to the same losses and predictions")
    func sameTraining() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let narrow = try Self.dataset(into: folder + "/i32", i64Keys: false)
        let wide = try Self.dataset(into: folder + "/i64", i64Keys: true)
        // The same records, 4 bytes more per key.
        let file = try NormFile(path: folder + "/i32/train/part_0.bin", layout: MF.input.layout, i64Keys: false, check: .sum)
        var keys = 0
        while let batch = try file.readBatch(maxCount: 100) { keys += batch.sparse.reduce(0) { $0 + $1.keys.count } }
        let extra = try Self.fileSize(folder + "/i64/train/part_0.bin") - Self.fileSize(folder + "/i32/train/part_0.bin")
        #expect(keys > 300 && extra == 4 * keys)
        let a = try Self.model(narrow, i64Keys: false), b = try Self.model(wide, i64Keys: true)
        let lossesA = try a.fit(maxIter: 6, display: 1, evalInterval: 3).map(\.loss)
        let lossesB = try b.fit(maxIter: 6, display: 1, evalInterval: 3).map(\.loss)
        #expect(lossesA.count == 8 && lossesA == lossesB)
        #expect(try a.predict(fileList: narrow.evalList) == b.predict(fileList: wide.evalList))
    }

    @Test("reading files of the other key width is an error naming i64_input_key", arguments: [false, true])
    func mismatch(_ i64Files: Bool) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try Self.dataset(into: folder + "/data", i64Keys: i64Files)
        let model = try Self.model(dataset, i64Keys: !i64Files)
        #expect { try model.fit(maxIter: 2, display: 0, evalInterval: 0) } throws: {
            "\($0)".contains("i64_input_key")
        }
    }

    @Test("sparse model keys are int64 in files; an I32 model truncates them to 32 bits on loading")
    func modelFileKeys() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let narrow = try Self.dataset(into: folder + "/i32", i64Keys: false)
        let wide = try Self.dataset(into: folder + "/i64", i64Keys: true)
        let trained = try Self.model(narrow, i64Keys: false)
        try trained.fit(maxIter: 5, display: 0, evalInterval: 0)
        try trained.saveParamsToFiles(prefix: folder + "/m", iter: 5)
        let reference = try trained.predict(fileList: narrow.evalList)
        let sparse = [folder + "/m0_sparse_5.model", folder + "/m1_sparse_5.model"]
        let keys = try MF.int64s(MF.bytes(sparse[0] + "/key"))
        #expect(try Self.fileSize(sparse[0] + "/key") == 8 * keys.count && !keys.isEmpty)
        #expect(keys.allSatisfy { (0..<100).contains($0) })
        // The same folders with 2^32 added to every key.
        let shifted = sparse.map { $0.replacingOccurrences(of: "/m", with: "/shifted") }
        for (from, to) in zip(sparse, shifted) {
            try FileManager.default.copyItem(atPath: from, toPath: to)
            let moved = try MF.int64s(MF.bytes(from + "/key")).map { $0 + (1 << 32) }
            try moved.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: to + "/key")) }
        }
        let i32 = try Self.model(narrow, i64Keys: false)
        try i32.loadDenseWeights(folder + "/m_dense_5.model")
        try i32.loadSparseWeights(shifted)
        #expect(try i32.predict(fileList: narrow.evalList) == reference, "the keys came back as their low 32 bits")
        let i64 = try Self.model(wide, i64Keys: true)
        try i64.loadDenseWeights(folder + "/m_dense_5.model")
        try i64.loadSparseWeights(sparse)
        #expect(try i64.predict(fileList: wide.evalList) == reference)
        try i64.loadSparseWeights(shifted)
        #expect(try i64.predict(fileList: wide.evalList) != reference, "keys ≥ 2^32 are other keys in an I64 model")
        // Both a key and key + 2^32 in one file: one key twice for an I32 model.
        let both = keys.dropLast() + [keys[0] + (1 << 32)]
        try both.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: shifted[0] + "/key")) }
        #expect { try i32.loadSparseWeights([shifted[0], sparse[1]]) } throws: {
            ($0 as? SwiftCTRError)?.message.contains("key \(keys[0]) appears twice") == true
        }
        try i64.loadSparseWeights([shifted[0], sparse[1]])
    }

    @Test("a hand-built batch of an I32 model must hold 32-bit keys")
    func handBuiltKeys() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dataset = try Self.dataset(into: folder + "/data", i64Keys: false)
        let reader = try BatchReader(fileList: dataset.trainList, layout: MF.input.layout, i64Keys: false, check: .sum,
                                     batchSize: 8, repeat: false)
        var batch = try reader.next()!
        reader.stop()
        var keys = batch.sparse[1].keys.array
        keys[0] = 1 << 32
        batch.sparse[1] = SparseBatch(rowOffsets: batch.sparse[1].rowOffsets.array, keys: keys)
        #expect { try Self.model(dataset, i64Keys: false).train(batch: batch) } throws: {
            ($0 as? SwiftCTRError)?.message.contains("sparse input 'data2' holds the key 4294967296, which is not a 32-bit key") == true
        }
        try Self.model(dataset, i64Keys: true).train(batch: batch)
    }

    @Test("swiftctr generate --key-type writes I32 or I64 files")
    func generateOption() throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotKillTests.binary))
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let common = ["generate", "--train", "50", "--eval", "20", "--slot-sizes", "5,6"]
        let narrow = try EvaluatePredictCLITests.swiftctr(common + ["--out", "a", "--key-type", "i32"], in: folder)
        #expect(narrow.status == 0 && narrow.output.contains("I32 keys"), "\(narrow.errors)")
        #expect(try SyntheticGenerator.load(directory: folder + "/a").0.i64Keys == false)
        let wide = try EvaluatePredictCLITests.swiftctr(common + ["--out", "b"], in: folder)
        #expect(wide.status == 0 && wide.output.contains("I64 keys"))
        let bad = try EvaluatePredictCLITests.swiftctr(common + ["--out", "c", "--key-type", "I16"], in: folder)
        #expect(bad.status != 0 && bad.errors.contains("--key-type must be I32 or I64"))
    }
}
