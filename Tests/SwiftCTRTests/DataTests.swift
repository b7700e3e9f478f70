import CTRCore
import CTRData
import Foundation
import Testing

// MARK: helpers

/// A fresh temporary folder; each test removes its own with `defer { scratch.remove() }`.
private struct Scratch {
    let path: String

    init(_ name: String = #function) {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ctrdata-\(name.filter(\.isLetter))-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// A new empty sub-folder.
    func folder(_ name: String) -> String {
        let sub = path + "/" + name
        try? FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        return sub
    }
}

private func bytes(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path) ?? Data())
}

private func writeBytes(_ bytes: [UInt8], _ path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

private func int64LE(_ values: [Int64]) -> [UInt8] {
    values.flatMap { v in (0 ..< 8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
}

/// The error thrown by `body`, as text ("" when nothing is thrown).
private func errorText(_ body: () throws -> Void) -> String {
    do {
        try body()
        return ""
    } catch {
        return "\(error)"
    }
}

/// Reads every batch (one pass) and returns them.
private func readAll(_ list: String, _ layout: DataLayout, i64Keys: Bool, check: CheckType, batchSize: Int,
                     workers: Int = 1) throws -> [Batch] {
    let reader = try BatchReader(fileList: list, layout: layout, i64Keys: i64Keys, check: check,
                                 batchSize: batchSize, repeat: false, numWorkers: workers)
    var batches: [Batch] = []
    while let b = try reader.next() { batches.append(b) }
    return batches
}

private struct Sample: Equatable {
    var labels: [Float]
    var dense: [Float]
    var slots: [[Int64]]
}

/// Random samples with label 0 = index (so order is checkable) and variable nnz up to `nnz[s]`.
private func randomSamples(_ count: Int, nnz: [Int], denseDim: Int, seed: UInt64, first: Int = 0) -> [Sample] {
    (0 ..< count).map { i in
        var rng = CounterRNG(seed: seed, stream: UInt64(i))
        let slots = nnz.map { n in (0 ..< rng.nextInt(below: n + 1)).map { _ in Int64(rng.nextInt(below: 4_000_000_000)) } }
        return Sample(labels: [Float(first + i), Float(rng.nextUniform())],
                      dense: (0 ..< denseDim).map { _ in Float(rng.nextNormal()) }, slots: slots)
    }
}

private func writeFile(_ path: String, _ samples: [Sample], slotNum: Int, denseDim: Int, i64Keys: Bool, check: CheckType) throws {
    let w = try NormWriter(path: path, labelDim: 2, denseDim: denseDim, slotNum: slotNum, i64Keys: i64Keys, check: check)
    for s in samples { try w.append(labels: s.labels, dense: s.dense, slots: s.slots) }
    try w.finish()
}

/// Flattens batches back into samples, using the layout's split of slots over sparse inputs.
private func samples(of batches: [Batch], _ layout: DataLayout) -> [Sample] {
    var result: [Sample] = []
    for b in batches {
        for i in 0 ..< b.count {
            var slots: [[Int64]] = []
            for (k, input) in layout.sparse.enumerated() {
                for s in 0 ..< input.slotNum { slots.append(Array(b.sparse[k].row(i * input.slotNum + s))) }
            }
            result.append(Sample(labels: Array(b.labels[i * layout.labelDim ..< (i + 1) * layout.labelDim]),
                                 dense: Array(b.dense[i * layout.denseDim ..< (i + 1) * layout.denseDim]), slots: slots))
        }
    }
    return result
}

private let smallLayout = DataLayout(labelDim: 2, denseDim: 3, sparse: [
    SparseInputLayout(name: "a", nnzPerSlot: [1, 3]),
    SparseInputLayout(name: "b", nnzPerSlot: [2]),
])

/// One small valid file plus its list, for the rejection tests.
private func smallDataset(in scratch: Scratch, check: CheckType, i64Keys: Bool = true,
                          records: Int = 5) throws -> (list: String, file: String) {
    let folder = scratch.folder("\(check.rawValue)-\(i64Keys)-\(UUID().uuidString)")
    let file = folder + "/part_0.bin"
    try writeFile(file, randomSamples(records, nnz: [1, 3, 2], denseDim: 3, seed: 7), slotNum: 3, denseDim: 3,
                  i64Keys: i64Keys, check: check)
    try FileList.write(["part_0.bin"], to: folder + "/list.txt")
    return (folder + "/list.txt", file)
}

// MARK: byte format

@Test func normByteExampleWithoutChecksum() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let path = scratch.path + "/example.bin"
    let w = try NormWriter(path: path, labelDim: 1, denseDim: 2, slotNum: 2, i64Keys: false, check: .none)
    try w.append(labels: [1], dense: [0.5, 2], slots: [[7], [12, 13]])
    #expect(!FileManager.default.fileExists(atPath: path))
    try w.finish()
    let sample: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00,
                           0x07, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x0D, 0x00, 0x00, 0x00]
    #expect(bytes(path) == int64LE([0, 1, 1, 2, 2, 0, 0, 0]) + sample)
    #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
}

@Test func normByteExampleWithChecksum() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let path = scratch.path + "/example.bin"
    let w = try NormWriter(path: path, labelDim: 1, denseDim: 2, slotNum: 2, i64Keys: false, check: .sum)
    try w.append(labels: [1], dense: [0.5, 2], slots: [[7], [12, 13]])
    try w.finish()
    let sample: [UInt8] = [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00,
                           0x07, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x0D, 0x00, 0x00, 0x00]
    let header = int64LE([1, 1, 1, 2, 2, 0, 0, 0])
    let headerSum = UInt8(header.reduce(0) { $0 + Int($1) } % 256)
    #expect(headerSum == 7)
    #expect(bytes(path) == [64, 0, 0, 0] + header + [headerSum] + [0x20, 0, 0, 0] + sample + [0x61])
}

@Test func writerRejectsBadSamples() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let path = scratch.path + "/bad.bin"
    let w = try NormWriter(path: path, labelDim: 1, denseDim: 2, slotNum: 2, i64Keys: false, check: .sum)
    #expect(errorText { try w.append(labels: [1], dense: [0.5, 2], slots: [[7], [1 << 33]]) }.contains("uint32"))
    #expect(errorText { try w.append(labels: [1], dense: [0.5, 2], slots: [[-1], [1]]) }.contains("i64Keys"))
    #expect(errorText { try w.append(labels: [1, 2], dense: [0.5, 2], slots: [[7], [1]]) }.contains("labels"))
    #expect(errorText { try w.append(labels: [1], dense: [0.5], slots: [[7], [1]]) }.contains("dense"))
    #expect(errorText { try w.append(labels: [1], dense: [0.5, 2], slots: [[7]]) }.contains("slots"))
    #expect(errorText { try w.append(labels: [1], dense: [0.5, 2], keys: [1, 2], slotNNZ: [1, 2]) }.contains("slotNNZ"))
    #expect(w.recordCount == 0)
}

@Test func unfinishedWriterLeavesNoFile() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    do {
        let w = try NormWriter(path: folder + "/x.bin", labelDim: 1, denseDim: 0, slotNum: 1, i64Keys: true, check: .none)
        try w.append(labels: [1], dense: [], slots: [[3]])
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
}

// MARK: round trips

@Test(arguments: [(CheckType.sum, true), (.sum, false), (.none, true), (.none, false)])
func writerReaderRoundTrip(check: CheckType, i64Keys: Bool) throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    let written = randomSamples(37, nnz: [1, 3, 2], denseDim: 3, seed: 1)
    try writeFile(folder + "/part_0.bin", written, slotNum: 3, denseDim: 3, i64Keys: i64Keys, check: check)
    try FileList.write([folder + "/part_0.bin"], to: folder + "/list.txt")

    let batches = try readAll(folder + "/list.txt", smallLayout, i64Keys: i64Keys, check: check, batchSize: 8)
    #expect(batches.map(\.count) == [8, 8, 8, 8, 5])
    #expect(samples(of: batches, smallLayout) == written)
    let last = batches[4]
    #expect(last.labels.count == 10 && last.dense.count == 15)
    #expect(last.sparse[0].rowOffsets.count == 11 && last.sparse[1].rowOffsets.count == 6)

    let file = try NormFile(path: folder + "/part_0.bin", layout: smallLayout, i64Keys: i64Keys, check: check)
    #expect(file.header == NormHeader(errorCheck: check.headerValue, numberOfRecords: 37, labelDim: 2, denseDim: 3, slotNum: 3))
    var direct: [Batch] = []
    while let b = try file.readBatch(maxCount: 16) { direct.append(b) }
    #expect(samples(of: direct, smallLayout) == written)
}

@Test func flatAppendMatchesSlotAppend() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    let a = try NormWriter(path: folder + "/a.bin", labelDim: 1, denseDim: 1, slotNum: 3, i64Keys: true, check: .sum)
    let b = try NormWriter(path: folder + "/b.bin", labelDim: 1, denseDim: 1, slotNum: 3, i64Keys: true, check: .sum)
    try a.append(labels: [1], dense: [2], slots: [[5], [], [6, 7]])
    try b.append(labels: [1], dense: [2], keys: [5, 6, 7], slotNNZ: [1, 0, 2])
    try a.finish()
    try b.finish()
    #expect(bytes(folder + "/a.bin") == bytes(folder + "/b.bin"))
}

@Test func workersStripeFilesAndCollectRoundRobin() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    for k in 0 ..< 2 {
        try writeFile(folder + "/part_\(k).bin", randomSamples(10, nnz: [1, 3, 2], denseDim: 3, seed: 3, first: 100 * k),
                      slotNum: 3, denseDim: 3, i64Keys: true, check: .sum)
    }
    try FileList.write(["part_0.bin", "part_1.bin"], to: folder + "/list.txt")
    let batches = try readAll(folder + "/list.txt", smallLayout, i64Keys: true, check: .sum, batchSize: 4, workers: 2)
    let firstLabels = batches.map { b in Int(b.labels[0]) }
    #expect(batches.map(\.count) == [4, 4, 4, 4, 2, 2])
    #expect(firstLabels == [0, 100, 4, 104, 8, 108])
}

@Test func repeatModeWrapsAcrossFileBoundaries() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    try writeFile(folder + "/part_0.bin", randomSamples(10, nnz: [1, 3, 2], denseDim: 3, seed: 4),
                  slotNum: 3, denseDim: 3, i64Keys: true, check: .none)
    try FileList.write(["part_0.bin"], to: folder + "/list.txt")
    let reader = try BatchReader(fileList: folder + "/list.txt", layout: smallLayout, i64Keys: true, check: .none,
                                 batchSize: 4, repeat: true)
    var labels: [Int] = []
    for _ in 0 ..< 6 {
        let b = try #require(try reader.next())
        #expect(b.count == 4)
        labels += (0 ..< 4).map { Int(b.labels[2 * $0]) }
    }
    #expect(labels == (0 ..< 24).map { $0 % 10 })
    reader.stop()
    #expect(try reader.next() == nil)
}

@Test func readerStopsCleanlyMidStream() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let (list, _) = try smallDataset(in: scratch, check: .sum, records: 200)
    for _ in 0 ..< 20 {
        let reader = try BatchReader(fileList: list, layout: smallLayout, i64Keys: true, check: .sum,
                                     batchSize: 3, repeat: true, numWorkers: 1, prefetch: 2)
        _ = try reader.next()
    }
}

// MARK: rejections

@Test(arguments: [CheckType.sum, .none])
func readerRejectsTruncatedFiles(check: CheckType) throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let (list, file) = try smallDataset(in: scratch, check: check)
    let full = bytes(file)

    writeBytes(Array(full.dropLast(3)), file)
    let cut = errorText { _ = try readAll(list, smallLayout, i64Keys: true, check: check, batchSize: 2) }
    #expect(cut.contains("part_0.bin") && cut.contains("cut in the middle of record 4"), "\(cut)")

    let recordStart = try offsetOfRecord(4, in: file, check: check)
    writeBytes(Array(full.prefix(recordStart)), file)
    let short = errorText { _ = try readAll(list, smallLayout, i64Keys: true, check: check, batchSize: 2) }
    #expect(short.contains("ends after 4 records") && short.contains("5 records"), "\(short)")

    writeBytes(Array(full.prefix(40)), file)
    let header = errorText { _ = try readAll(list, smallLayout, i64Keys: true, check: check, batchSize: 2) }
    #expect(header.contains("too short to hold a Norm header"), "\(header)")

    writeBytes(full + [0, 0, 0, 0], file)
    let extra = errorText { _ = try readAll(list, smallLayout, i64Keys: true, check: check, batchSize: 2) }
    #expect(extra.contains("after the last record"), "\(extra)")
}

/// Byte offset where record `index` starts, found by reading the records before it.
private func offsetOfRecord(_ index: Int, in file: String, check: CheckType) throws -> Int {
    var offset = check == .sum ? 69 : 64
    let data = bytes(file)
    func int32(_ at: Int) -> Int { Int(Int32(bitPattern: UInt32(data[at]) | UInt32(data[at + 1]) << 8 | UInt32(data[at + 2]) << 16 | UInt32(data[at + 3]) << 24)) }
    for _ in 0 ..< index {
        if check == .sum {
            offset += 4 + int32(offset) + 1
        } else {
            offset += 4 * 5
            for _ in 0 ..< 3 { offset += 4 + 8 * int32(offset) }
        }
    }
    return offset
}

@Test func readerRejectsHeaderMismatches() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let (list, _) = try smallDataset(in: scratch, check: .sum)
    let slots = DataLayout(labelDim: 2, denseDim: 3, sparse: [SparseInputLayout(name: "a", nnzPerSlot: [1, 3])])
    let slotError = errorText { _ = try readAll(list, slots, i64Keys: true, check: .sum, batchSize: 4) }
    #expect(slotError.contains("slot_num") && slotError.contains("expected 2") && slotError.contains("found 3"), "\(slotError)")

    let dims = DataLayout(labelDim: 1, denseDim: 4, sparse: smallLayout.sparse)
    let dimError = errorText { _ = try readAll(list, dims, i64Keys: true, check: .sum, batchSize: 4) }
    #expect(dimError.contains("label_dim") && dimError.contains("dense_dim 4") && dimError.contains("dense_dim 3"), "\(dimError)")

    let sumAsNone = errorText { _ = try readAll(list, smallLayout, i64Keys: true, check: .none, batchSize: 4) }
    #expect(sumAsNone.contains("error_check") && sumAsNone.contains("None"), "\(sumAsNone)")

    let (plainList, _) = try smallDataset(in: scratch, check: .none)
    let noneAsSum = errorText { _ = try readAll(plainList, smallLayout, i64Keys: true, check: .sum, batchSize: 4) }
    #expect(noneAsSum.contains("header frame length") && noneAsSum.contains("check type None"), "\(noneAsSum)")
}

@Test func readerRejectsBadChecksum() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let (list, file) = try smallDataset(in: scratch, check: .sum)
    var data = bytes(file)
    let record = try offsetOfRecord(2, in: file, check: .sum)
    data[record + 4 + 5] &+= 1
    writeBytes(data, file)
    let message = errorText { _ = try readAll(list, smallLayout, i64Keys: true, check: .sum, batchSize: 2) }
    #expect(message.contains("checksum mismatch in record 2") && message.contains("part_0.bin") && message.contains("expected 0x"),
            "\(message)")
}

@Test func readerRejectsInconsistentRecords() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    // A u32 file read as i64 misreads keys as nnz values or overruns frames.
    let (u32List, _) = try smallDataset(in: scratch, check: .sum, i64Keys: false)
    let width = errorText { _ = try readAll(u32List, smallLayout, i64Keys: true, check: .sum, batchSize: 2) }
    #expect(width.contains("record 0") && width.contains("i64_input_key"), "\(width)")

    let (list, file) = try smallDataset(in: scratch, check: .none)
    var data = bytes(file)
    let record = try offsetOfRecord(1, in: file, check: .none)
    data[record + 20] = 3   // slot 0 nnz: capacity of input "a" is 1 + 3 = 4 keys
    data[record + 20 + 4 + 24] = 0xFF   // slot 1 nnz becomes negative or huge
    writeBytes(data, file)
    let nnz = errorText { _ = try readAll(list, smallLayout, i64Keys: true, check: .none, batchSize: 2) }
    #expect(nnz.contains("record 1") && (nnz.contains("too many keys") || nnz.contains("negative nnz")), "\(nnz)")

    let (framedList, framedFile) = try smallDataset(in: scratch, check: .sum)
    var framed = bytes(framedFile)
    framed[69] &+= 8   // frame length of record 0 grows; checksum byte position moves
    writeBytes(framed, framedFile)
    let frame = errorText { _ = try readAll(framedList, smallLayout, i64Keys: true, check: .sum, batchSize: 2) }
    #expect(frame.contains("record 0") && (frame.contains("frame length") || frame.contains("checksum")), "\(frame)")
}

@Test func readerRejectsBadArguments() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let (list, _) = try smallDataset(in: scratch, check: .sum)
    let workers = errorText { _ = try BatchReader(fileList: list, layout: smallLayout, i64Keys: true, check: .sum,
                                                  batchSize: 4, repeat: false, numWorkers: 2) }
    #expect(workers.contains("no greater than the number of files"), "\(workers)")
    let batch = errorText { _ = try BatchReader(fileList: list, layout: smallLayout, i64Keys: true, check: .sum,
                                                batchSize: 0, repeat: false) }
    #expect(batch.contains("batch size"), "\(batch)")
}

// MARK: file lists

@Test func fileListErrorsNameTheProblem() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    let list = folder + "/list.txt"
    #expect(errorText { _ = try FileList.read(folder + "/missing.txt") }.contains("file list not found"))

    try "abc\nx.bin\n".write(toFile: list, atomically: true, encoding: .utf8)
    #expect(errorText { _ = try FileList.read(list) }.contains("'abc'"))
    try "0\n".write(toFile: list, atomically: true, encoding: .utf8)
    #expect(errorText { _ = try FileList.read(list) }.contains("no data file"))
    try "3\na.bin\nb.bin\n".write(toFile: list, atomically: true, encoding: .utf8)
    #expect(errorText { _ = try FileList.read(list) }.contains("announces 3 files but has only 2"))
    try "1\nnowhere.bin\n".write(toFile: list, atomically: true, encoding: .utf8)
    #expect(errorText { _ = try FileList.read(list) }.contains("'nowhere.bin' (line 2) does not exist"))
}

@Test func fileListResolvesRelativeToItsFolder() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    try FileManager.default.createDirectory(atPath: folder + "/train", withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: folder + "/train/a.bin", contents: Data())
    _ = FileManager.default.createFile(atPath: folder + "/b.bin", contents: Data())
    try FileList.write(["train/a.bin", folder + "/b.bin"], to: folder + "/list.txt")
    #expect(String(decoding: bytes(folder + "/list.txt"), as: UTF8.self) == "2\ntrain/a.bin\n\(folder)/b.bin\n")
    #expect(try FileList.read(folder + "/list.txt") == [folder + "/train/a.bin", folder + "/b.bin"])
}

@Test func dataErrorDescriptionHasAllParts() {
    let e = DataError(file: "f.bin", offset: 12, "bad thing", expected: "1", found: "2", fix: "Do X.")
    #expect(e.description == "data error: 'f.bin' at byte offset 12: bad thing; expected 1, found 2. Fix: Do X.")
}

// MARK: generator

private func smallConfig(seed: UInt64 = 11) -> SyntheticConfig {
    SyntheticConfig(numTrain: 20_000, numEval: 6_000, slotSizes: [500, 40, 3, 2000, 12, 150, 7, 900],
                    denseDim: 4, seed: seed, trainFiles: 2, evalFiles: 1, minExpectedCount: 20)
}

@Test func generatorIsDeterministicAndPlantsSparseSignal() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let a = scratch.path + "/a"
    let b = scratch.path + "/b"
    let config = smallConfig()
    var fractions: [Double] = []
    let ds = try SyntheticGenerator.generate(config, into: a) { fractions.append($0) }
    _ = try SyntheticGenerator.generate(config, into: b)
    for name in ["train/part_0.bin", "train/part_1.bin", "eval/part_0.bin", "train_list.txt", "eval_list.txt", "oracle.json"] {
        #expect(bytes(a + "/" + name) == bytes(b + "/" + name), "\(name) differs")
    }
    #expect(fractions.last == 1)
    #expect(ds.oracleAUC >= 0.75, "oracle AUC \(ds.oracleAUC)")
    #expect(ds.denseOnlyAUC < 0.65, "dense-only AUC \(ds.denseOnlyAUC)")
    #expect((0.2 ... 0.45).contains(ds.trainPositiveRate), "positive rate \(ds.trainPositiveRate)")

    let (loaded, oracleAUC) = try SyntheticGenerator.load(directory: a)
    #expect(loaded == config && oracleAUC == ds.oracleAUC)
    let oracle = try #require(try JSONSerialization.jsonObject(with: Data(bytes(ds.oracleJSON))) as? [String: Any])
    #expect(abs((oracle["eval_auc"] as? Double ?? 0) - ds.oracleAUC) < 1e-12)
    #expect(abs((oracle["eval_auc_dense_only_oracle"] as? Double ?? 0) - ds.denseOnlyAUC) < 1e-12)
    #expect(String(decoding: bytes(ds.trainList), as: UTF8.self) == "2\ntrain/part_0.bin\ntrain/part_1.bin\n")

    // The trainer's view: read the split back through the list with the config's layout.
    let batches = try readAll(ds.evalList, config.layout, i64Keys: config.i64Keys, check: config.check, batchSize: 1000)
    #expect(batches.reduce(0) { $0 + $1.count } == config.numEval)
    let keys = batches[0].sparse[0]
    #expect(keys.rowOffsets.count == 1000 * 8 + 1 && keys.keys.count == 1000 * 8)
    #expect(keys.keys[0] < 500 && keys.keys[3] >= 543 && keys.keys[3] < 543 + 2000)

    var reseeded = smallConfig(seed: 12)
    reseeded.numTrain = 2_000
    let other = try SyntheticGenerator.generate(reseeded, into: scratch.path + "/c")
    #expect(other.oracleAUC != ds.oracleAUC)
}

@Test func generatorWritesMultiHotU32Datasets() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    var config = smallConfig()
    config.numTrain = 4_000
    config.numEval = 1_000
    config.nnzPerSlot = [1, 3, 1, 4, 1, 2, 1, 1]
    config.i64Keys = false
    config.check = .none
    let ds = try SyntheticGenerator.generate(config, into: scratch.path)
    let batches = try readAll(ds.trainList, config.layout, i64Keys: false, check: .none, batchSize: 512, workers: 2)
    let all = samples(of: batches, config.layout)
    #expect(all.count == 4_000)
    let counts = all.map { $0.slots[1].count }
    #expect(Set(counts) == [1, 2, 3])
    #expect(all.allSatisfy { $0.slots[0].count == 1 && (1 ... 4).contains($0.slots[3].count) })
}

@Test func generatorRejectsBadConfigs() {
    let scratch = Scratch()
    defer { scratch.remove() }
    var config = smallConfig()
    config.nnzPerSlot = [1]
    #expect(errorText { _ = try SyntheticGenerator.generate(config, into: scratch.path) }.contains("nnzPerSlot"))
    config = smallConfig()
    config.slotSizes = [Int(UInt32.max), 5]
    config.nnzPerSlot = [1, 1]
    config.i64Keys = false
    #expect(errorText { _ = try SyntheticGenerator.generate(config, into: scratch.path) }.contains("uint32"))
    #expect(errorText { _ = try SyntheticGenerator.load(directory: scratch.path) }.contains("dataset.json"))
}

@Test func defaultConfigDecodesFromPartialJSON() throws {
    let json = #"{"numTrain": 10, "numEval": 5, "slotSizes": [3, 4]}"#
    let config = try JSONDecoder().decode(SyntheticConfig.self, from: Data(json.utf8))
    #expect(config == SyntheticConfig(numTrain: 10, numEval: 5, slotSizes: [3, 4]))
    #expect(SyntheticConfig.default.slotSizes.count == 26 && SyntheticConfig.default.slotSizes[5] == 2)
    let encoded = try JSONEncoder().encode(SyntheticConfig.default)
    #expect(try JSONDecoder().decode(SyntheticConfig.self, from: encoded) == .default)
}

@Test func oneHotBatchesShareIdentityOffsetsAndMultiHotOnesKeepTheirs() throws {
    let scratch = Scratch()
    defer { scratch.remove() }
    let folder = scratch.path
    let oneKey = [Sample(labels: [1, 0], dense: [1, 2, 3], slots: [[5], [6], [7]]),
                  Sample(labels: [0, 1], dense: [4, 5, 6], slots: [[8], [9], [10]])]
    let mixed = [Sample(labels: [1, 1], dense: [1, 1, 1], slots: [[5], [6, 7], [8]]),
                 Sample(labels: [0, 0], dense: [2, 2, 2], slots: [[], [9], [10]])]
    try writeFile(folder + "/one.bin", oneKey, slotNum: 3, denseDim: 3, i64Keys: true, check: .sum)
    try writeFile(folder + "/mixed.bin", mixed, slotNum: 3, denseDim: 3, i64Keys: true, check: .sum)
    try FileList.write(["one.bin", "mixed.bin"], to: folder + "/list.txt")
    let batches = try readAll(folder + "/list.txt", smallLayout, i64Keys: true, check: .sum, batchSize: 2)
    #expect(batches.count == 2)
    let (a, b) = (batches[0].sparse, batches[1].sparse)
    #expect(a.allSatisfy { $0.isOneHot && $0.offsetsChecked })
    #expect(a[0].rowOffsets == [0, 1, 2, 3, 4] && a[0].keys == [5, 6, 8, 9] && a[1].rowOffsets == [0, 1, 2] && a[1].keys == [7, 10])
    // Input "a" of the second batch has rows of 1, 2, 0 and 1 keys; input "b" is still one-hot.
    #expect(!b[0].isOneHot && b[0].offsetsChecked && b[0].rowOffsets == [0, 1, 3, 3, 4] && b[0].keys == [5, 6, 7, 9])
    #expect(b[1].isOneHot && b[1].rowOffsets == [0, 1, 2] && b[1].keys == [8, 10])
    // A hand-built batch is never taken as checked unless it is one-hot.
    #expect(!SparseBatch(rowOffsets: [0, 2, 1], keys: [1, 2]).offsetsChecked)
}
