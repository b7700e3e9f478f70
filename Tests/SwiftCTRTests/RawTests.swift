import CTRData
import Foundation
@testable import SwiftCTR
import Testing

/// Little-endian bytes of 32-bit words.
private func words(_ values: [UInt32]) -> [UInt8] {
    values.flatMap { v in (0 ..< 4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

private let rawLayout = DataLayout(labelDim: 1, denseDim: 2, sparse: [
    SparseInputLayout(name: "a", slotNum: 2, maxNNZPerSample: 2), SparseInputLayout(name: "b", slotNum: 1, maxNNZPerSample: 3),
])

/// A Raw file of `n` int32 samples, written byte by byte: label `i % 2`, dense `(i, 2i)`, keys `(10i, 10i+1, 10i+2)`.
private func intRawFile(_ n: Int, in folder: String) -> String {
    var b: [UInt8] = []
    for i in 0 ..< n {
        let k = UInt32(10 * i)
        b += words([UInt32(i % 2), UInt32(i), UInt32(2 * i), k, k + 1, k + 2])
    }
    let path = folder + "/data.bin"
    _ = FileManager.default.createFile(atPath: path, contents: Data(b))
    return path
}

private func reader(_ path: String, _ n: Int, batch: Int, repeats: Bool, workers: Int, start: Int = 0,
                    i64: Bool = false, float: Bool = false) throws -> RawReader {
    try RawReader(path: path, layout: rawLayout, i64Keys: i64, numSamples: n, floatLabelDense: float, batchSize: batch,
                  repeat: repeats, numWorkers: workers, prefetch: 3, startingAt: start)
}

private func drain(_ source: any BatchSource, max: Int = 1000) throws -> [Batch] {
    var out: [Batch] = []
    while out.count < max, let b = try source.next() { out.append(b) }
    source.stop()
    return out
}

@Suite("Raw format: reader, writer, generator and training")
struct RawTests {
    @Test("int32 samples decode byte for byte: labels as floats, dense as log(x + 1), one key per slot per input")
    func decodesBytes() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = intRawFile(5, in: folder)
        let batches = try drain(reader(path, 5, batch: 5, repeats: false, workers: 1))
        #expect(batches.count == 1)
        let b = batches[0]
        #expect(b.count == 5 && b.labels == [0, 1, 0, 1, 0])
        let dense: [Float] = (0 ..< 5).flatMap { (i: Int) -> [Float] in [log(Float(i) + 1), log(Float(2 * i) + 1)] }
        #expect(b.dense == dense)
        let keys0: [Int64] = (0 ..< 5).flatMap { (i: Int) -> [Int64] in [Int64(10 * i), Int64(10 * i + 1)] }
        let keys1: [Int64] = (0 ..< 5).map { Int64(10 * $0 + 2) }
        #expect(b.sparse[0].keys == keys0 && b.sparse[1].keys == keys1)
        #expect(b.sparse[0].rowOffsets == (0 ... 10).map(Int64.init) && b.sparse[0].isOneHot && b.sparse[1].isOneHot)
    }

    @Test("float32 labels and dense values are taken as stored; int64 keys read at the width the size check used")
    func floatAndWideKeys() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/f.bin"
        let w = try RawWriter(path: path, labelDim: 1, denseDim: 2, slotNum: 3, i64Keys: true, floatLabelDense: true)
        try w.append(labels: [0.25], dense: [-1.5, 3], keys: [1 << 40, 2, 3])
        try w.append(labels: [Float(1)], dense: [7, 8], keys: [4, 5, 6])
        try w.finish()
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int
        #expect(size == 2 * (4 * 3 + 8 * 3) && w.sampleCount == 2)
        let b = try drain(reader(path, 2, batch: 4, repeats: false, workers: 2, i64: true, float: true))[0]
        #expect(b.labels == [0.25, 1] && b.dense == [-1.5, 3, 7, 8])
        #expect(b.sparse[0].keys == [1 << 40, 2, 4, 5] && b.sparse[1].keys == [3, 6])
        // Read as 4-byte keys the size does not fit, and the error says which key width does.
        let narrow = #expect(throws: DataError.self) { try reader(path, 2, batch: 4, repeats: false, workers: 1, float: true) }
        #expect(narrow?.message.contains("2 × 24 = 48 bytes") == true && narrow?.message.contains("found 72 bytes") == true)
        #expect(narrow?.message.contains("set i64_input_key true") == true)
        let intMismatch = #expect(throws: DataError.self) { try w.append(labels: [Int32(1)], dense: [1, 2], keys: [1, 2, 3]) }
        #expect(intMismatch?.message.contains("float32 labels") == true)
    }

    @Test("a wrong num_samples names the expected and the found size and the sample count that fits")
    func sizeErrors() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = intRawFile(7, in: folder)
        let wrong = #expect(throws: DataError.self) { try reader(path, 8, batch: 4, repeats: false, workers: 1) }
        #expect(wrong?.message.contains("8 × 24 = 192 bytes") == true)
        #expect(wrong?.message.contains("found 168 bytes; the file holds exactly 7 samples") == true)
        let zero = #expect(throws: DataError.self) { try reader(path, 0, batch: 4, repeats: false, workers: 1) }
        #expect(zero?.message.contains("num_samples ≥ 1") == true && zero?.message.contains("7 samples") == true)
        let missing = #expect(throws: DataError.self) { try reader(folder + "/none.bin", 1, batch: 4, repeats: false, workers: 1) }
        #expect(missing?.message.contains("does not exist") == true)
        let thin = DataLayout(labelDim: 1, denseDim: 2, sparse: [SparseInputLayout(name: "a", slotNum: 3, maxNNZPerSample: 2)])
        let capacity = #expect(throws: DataError.self) {
            try RawReader(path: path, layout: thin, i64Keys: false, numSamples: 7, floatLabelDense: false, batchSize: 4, repeat: false)
        }
        #expect(capacity?.message.contains("one key per slot") == true)
    }

    @Test("batches come in file order whatever the worker count; the last is partial; repeat wraps",
          arguments: [1, 2, 3, 5])
    func batchOrder(workers: Int) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = intRawFile(10, in: folder)
        let once = try drain(reader(path, 10, batch: 4, repeats: false, workers: workers))
        #expect(once.map(\.count) == [4, 4, 2])
        #expect(once.map { $0.sparse[1].keys } == [[2, 12, 22, 32], [42, 52, 62, 72], [82, 92]])
        let looping = try drain(reader(path, 10, batch: 4, repeats: true, workers: workers), max: 8)
        #expect(looping.map(\.count) == [4, 4, 2, 4, 4, 2, 4, 4])
        #expect(looping[5].sparse[1].keys == [82, 92] && looping[6].labels == once[0].labels)
    }

    @Test("a reader started at batch n hands out what one that skipped n batches would", arguments: [true, false])
    func startingAt(repeats: Bool) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = intRawFile(23, in: folder)
        let whole = try drain(reader(path, 23, batch: 4, repeats: repeats, workers: 3), max: 20)
        #expect(whole.count == (repeats ? 20 : 6))
        for start in [1, 3, 5, 6, 7, 13] {
            let late = try drain(reader(path, 23, batch: 4, repeats: repeats, workers: 3, start: start), max: 20 - start)
            let expected = start < whole.count ? Array(whole[start...]) : []
            #expect(late.map { $0.sparse[0].keys } == expected.map { $0.sparse[0].keys }, "start \(start)")
            #expect(late.map(\.dense) == expected.map(\.dense))
        }
    }

    @Test("generate --format raw: one-hot keys in each slot's global range, int32 dense, a learnable signal")
    func generated() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = SyntheticConfig(numTrain: 300, numEval: 100, slotSizes: [5, 7, 3], denseDim: 2, seed: 3, i64Keys: false,
                                     format: .raw, minExpectedCount: 1)
        let ds = try SyntheticGenerator.generate(config, into: folder)
        #expect(ds.trainList == folder + "/train_data.bin" && ds.evalList == folder + "/eval_data.bin")
        #expect(!FileManager.default.fileExists(atPath: folder + "/train_list.txt"))
        #expect(ds.oracleAUC > 0.6)
        let layout = DataLayout(labelDim: 1, denseDim: 2, sparse: [SparseInputLayout(name: "d", slotNum: 3, maxNNZPerSample: 3)])
        let source = try DataFormat.raw(numSamples: 300, floatLabelDense: false)
            .open(source: ds.trainList, layout: layout, i64Keys: false, batchSize: 300, repeat: false)
        let b = try drain(source)[0]
        let starts: [Int64] = [0, 5, 12, 15]
        for i in 0 ..< 300 {
            for s in 0 ..< 3 { #expect((starts[s] ..< starts[s + 1]).contains(b.sparse[0].keys[3 * i + s])) }
        }
        #expect(Set(b.labels) == [0, 1])
        // Every dense value is log(x + 1) of a stored integer x ≥ 0.
        #expect(b.dense.allSatisfy { $0 >= 0 } && b.dense.allSatisfy { abs((exp($0) - 1).rounded() - (exp($0) - 1)) < 1e-2 * max(1, exp($0)) })
        let nnz = #expect(throws: DataError.self) {
            var multi = config
            multi.nnzPerSlot = [1, 2, 1]
            try multi.validate()
        }
        #expect(nnz?.message.contains("one-hot") == true)
    }

    /// The model-file test model reading a one-hot Raw dataset of the same shape.
    private static func rawModel(_ folder: String, solver: Solver = MF.solver(), float: Bool = false) throws -> (Model, GeneratedDataset) {
        let config = SyntheticConfig(numTrain: 600, numEval: 256, slotSizes: MF.slotSizes, denseDim: 4, seed: 5, i64Keys: false,
                                     format: .raw, floatLabelDense: float, interactionPairs: 3, minExpectedCount: 1)
        let ds = try SyntheticGenerator.generate(config, into: folder + "/data")
        let reader = DataReaderParams(dataReaderType: .raw, source: [ds.trainList], evalSource: ds.evalList, checkType: .none,
                                      numSamples: 600, evalNumSamples: 256, floatLabelDense: float, numWorkers: 3)
        return (try MF.model(ds, solver: solver, reader: reader), ds)
    }

    @Test("repeat mode on Raw: the resumed run equals the uninterrupted one bit for bit")
    func resumeRepeating() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 600 samples in batches of 64: nine full batches and a partial one of 24, dropped, each pass.
        let (full, _) = try Self.rawModel(folder)
        let reference = try full.fit(maxIter: 14, display: 1, evalInterval: 5, snapshot: 4, snapshotPrefix: folder + "/a")
        #expect(try SnapshotManifest.read(folder + "/a_8.snapshot.json").position.trainBatches == 9)
        let (resumed, _) = try Self.rawModel(folder)
        try resumed.resume(from: folder + "/a_8.snapshot.json")
        let records = try resumed.fit(maxIter: 14, display: 1, evalInterval: 5, snapshot: 4, snapshotPrefix: folder + "/b")
        let expected = ResumeTests.curve(reference, after: 9)
        #expect(expected.count == 6 && ResumeTests.curve(records, after: 0) == expected)
        let a = try ResumeTests.contents(ModelFileNames(prefix: folder + "/a", iteration: 12))
        let b = try ResumeTests.contents(ModelFileNames(prefix: folder + "/b", iteration: 12))
        #expect(a.count == 11 && a == b)
        #expect(full.currentLoss == resumed.currentLoss && full.currentLoss.isFinite)
    }

    @Test("epoch mode on Raw (float32 dense): the resumed run continues in the same epoch and batch")
    func resumeEpochs() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let solver = MF.solver(repeatDataset: false)
        let (full, _) = try Self.rawModel(folder, solver: solver, float: true)
        let reference = try full.fit(numEpochs: 2, display: 1, evalInterval: 7, snapshot: 5, snapshotPrefix: folder + "/a")
        #expect(reference.filter { $0.evalAUC == nil }.count == 18, "nine full batches per epoch")
        let manifest = try SnapshotManifest.read(folder + "/a_10.snapshot.json")
        #expect(manifest.position == DataPosition(iteration: 11, epoch: 1, trainBatches: 2, evalBatches: 2))
        let (again, _) = try Self.rawModel(folder, solver: solver, float: true)
        try again.resume(from: folder + "/a_10.snapshot.json")
        let records = try again.fit(numEpochs: 2, display: 1, evalInterval: 7)
        #expect(records.count == 8, "iterations 12…18 and the evaluation at 14")
        #expect(ResumeTests.curve(records, after: 0) == ResumeTests.curve(reference, after: 11))
    }

    @Test("Model refuses a Raw reader without sample counts, and a file shorter than one dropped batch")
    func modelErrors() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let params = DataReaderParams(dataReaderType: .raw, source: ["t.bin"], evalSource: "e.bin", checkType: .none, numSamples: 10)
        let noEval = #expect(throws: SwiftCTRError.self) { try Model(MF.solver(), params, CreateOptimizer()) }
        #expect(noEval?.message.contains("eval_num_samples") == true)
        let (_, ds) = try Self.rawModel(folder)
        let short = DataReaderParams(dataReaderType: .raw, source: [ds.trainList], evalSource: ds.evalList, checkType: .none,
                                     numSamples: 600, evalNumSamples: 256)
        let big = try MF.model(ds, solver: Solver(seed: 9, batchsizeEval: 64, batchsize: 1024), reader: short)
        let error = #expect(throws: SwiftCTRError.self) { try big.fit(maxIter: 2, display: 0, evalInterval: 0) }
        #expect(error?.message.contains("fewer than one batch of 1024") == true)
    }

    @Test("a legacy configuration with format Raw and num_samples trains")
    func legacyRaw() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = SyntheticConfig(numTrain: 200, numEval: 64, slotSizes: [10, 12], denseDim: 4, seed: 9, i64Keys: false,
                                     format: .raw, floatLabelDense: true)
        _ = try SyntheticGenerator.generate(config, into: folder)
        let json = """
        {"solver": {"batchsize": 32, "batchsize_eval": 32, "max_eval_batches": 2, "max_iter": 3, "display": 1, "eval_interval": 3, "seed": 4},
         "optimizer": {"type": "Adam", "adam_hparam": {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7}},
         "layers": [
          {"type": "Data", "format": "Raw", "source": "train_data.bin", "eval_source": "eval_data.bin", "num_samples": 200,
           "eval_num_samples": 64, "float_label_dense": true, "check": "None", "num_workers": 2,
           "label": {"top": "label", "label_dim": 1}, "dense": {"top": "dense", "dense_dim": 4},
           "sparse": [{"top": "data1", "type": "DistributedSlot", "nnz_per_slot": [1, 1], "is_fixed_length": true, "slot_num": 2}]},
          {"type": "LocalizedSlotSparseEmbeddingOneHot", "bottom": "data1", "top": "emb",
           "sparse_embedding_hparam": {"slot_size_array": [10, 12], "embedding_vec_size": 4, "combiner": "sum"}},
          {"type": "Reshape", "bottom": "emb", "top": "flat", "leading_dim": 8},
          {"type": "Concat", "bottom": ["flat", "dense"], "top": "all"},
          {"type": "InnerProduct", "bottom": "all", "top": "fc1", "fc_param": {"num_output": 1}},
          {"type": "BinaryCrossEntropyLoss", "bottom": ["fc1", "label"], "top": "loss"}]}
        """
        try json.write(toFile: folder + "/model.json", atomically: true, encoding: .utf8)
        let legacy = try LegacyConfig(file: folder + "/model.json")
        #expect(legacy.reader.dataReaderType == .raw && legacy.reader.numSamples == 200 && legacy.reader.evalNumSamples == 64)
        #expect(legacy.reader.source == [folder + "/train_data.bin"] && legacy.reader.floatLabelDense)
        let model = try legacy.makeModel()
        model.printsProgress = false
        try model.compile()
        let records = try model.fit(legacy.fit)
        #expect(records.filter { $0.evalAUC == nil }.map(\.iter) == [1, 2, 3] && records.last?.evalAUC != nil)
        #expect(records.allSatisfy { $0.loss.isFinite })
    }
}
