import CTRData
import Foundation
import Testing
@testable import SwiftCTR

@Suite("Generator shapes: several labels, several sparse inputs, DIN sequences")
struct GeneratorShapesTests {
    /// A fresh folder under the temporary directory; the caller removes it.
    static func scratch(_ name: String = #function) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gen-shapes-\(name.filter(\.isLetter))-\(UUID().uuidString)").path
    }

    /// FNV-1a 64 over every file of `folder`, in sorted relative-path order, names included.
    static func hash(_ folder: String) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        let names = try FileManager.default.subpathsOfDirectory(atPath: folder).sorted()
        for name in names {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            mix(Array(name.utf8))
            mix(FileManager.default.contents(atPath: folder + "/" + name) ?? Data())
        }
        return String(h, radix: 16)
    }

    /// A small default dataset in each format: the default slot sizes, seed, files and signal.
    static func smallDefault(_ format: SyntheticFormat) -> SyntheticConfig {
        var config = SyntheticConfig.default
        config.numTrain = 3_000
        config.numEval = 1_000
        config.format = format
        config.rowGroupSize = 500
        return config
    }

    // The hashes are what `hash` gave for these datasets written by the generator of commit d8ced03,
    // before the label, sparse-input and sequence options existed.
    @Test("the default config's bytes are those of the generator before the shape options", arguments: [
        (SyntheticFormat.norm, "1dcc873c9a13ab57"), (.raw, "9987fc7769ecf8c1"), (.parquet, "79526510866636a3"),
    ])
    func defaultBytesUnchanged(format: SyntheticFormat, expected: String) throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try SyntheticGenerator.generate(Self.smallDefault(format), into: folder)
        #expect(try Self.hash(folder) == expected, "\(format.rawValue)")
        #expect(try SyntheticGenerator.load(directory: folder).0 == Self.smallDefault(format))
    }

    /// A small dataset with a learnable signal (every key seen often enough).
    static func small(_ format: SyntheticFormat = .norm, seed: UInt64 = 7) -> SyntheticConfig {
        SyntheticConfig(numTrain: 3_000, numEval: 3_000, slotSizes: [50, 30, 80, 20, 10], nnzPerSlot: [1, 2, 1, 3, 1],
                        denseDim: 3, seed: seed, trainFiles: 2, evalFiles: 1, format: format, rowGroupSize: 700,
                        interactionPairs: 4, minExpectedCount: 5)
    }

    /// Every sample of `source`: its labels and its slots' keys, the inputs' slots one after another.
    static func samples(_ format: DataFormat, _ source: String, _ config: SyntheticConfig) throws -> [(labels: [Float], slots: [[Int64]])] {
        let layout = config.layout
        let reader = try format.open(source: source, layout: layout, i64Keys: config.i64Keys, batchSize: 500, repeat: false)
        var result: [(labels: [Float], slots: [[Int64]])] = []
        while let b = try reader.next() {
            #expect(b.sparse.count == layout.sparse.count)
            for i in 0 ..< b.count {
                let slots = layout.sparse.enumerated().flatMap { k, input in
                    (0 ..< input.slotNum).map { Array(b.sparse[k].row(i * input.slotNum + $0)) }
                }
                result.append((Array(b.labels[i * layout.labelDim ..< (i + 1) * layout.labelDim]), slots))
            }
        }
        return result
    }

    static func parquet(_ config: SyntheticConfig) -> DataFormat { .parquet(slotSizeArray: config.slotSizeArray) }

    @Test("labelDim 3: Norm, Parquet and Raw hold 3 labels of 0/1 per sample; the tasks differ; per-task oracle AUCs in oracle.json")
    func severalLabels() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var datasets: [(SyntheticConfig, GeneratedDataset)] = []
        for format in [SyntheticFormat.norm, .parquet, .raw] {
            var config = Self.small(format)
            config.labelDim = 3
            if format == .raw { config.nnzPerSlot = [1, 1, 1, 1, 1] }
            datasets.append((config, try SyntheticGenerator.generate(config, into: folder + "/" + format.rawValue)))
        }
        let (config, norm) = datasets[0]
        #expect(config.layout.labelDim == 3)
        let rows = try Self.samples(.norm(check: config.check), norm.evalList, config)
        #expect(rows.count == config.numEval && rows.allSatisfy { $0.labels.count == 3 && $0.labels.allSatisfy { $0 == 0 || $0 == 1 } })
        let parquetRows = try Self.samples(Self.parquet(datasets[1].0), datasets[1].1.evalList, datasets[1].0)
        #expect(parquetRows.map(\.labels) == rows.map(\.labels) && parquetRows.map(\.slots) == rows.map(\.slots))
        let metadata = try ParquetDatasetMetadata(folder: folder + "/parquet/eval")
        #expect(metadata.labels.map(\.name) == ["label0", "label1", "label2"] && metadata.labels.map(\.index) == [0, 1, 2])
        #expect(metadata.conts.map(\.index) == [3, 4, 5] && metadata.cats.first?.index == 6)
        let (rawConfig, raw) = datasets[2]
        let rawRows = try Self.samples(.raw(numSamples: rawConfig.numEval, floatLabelDense: false), raw.evalList, rawConfig)
        #expect(rawRows.count == rawConfig.numEval && rawRows.allSatisfy { $0.labels.count == 3 && $0.labels.allSatisfy { $0 == 0 || $0 == 1 } })

        let rates = (0 ..< 3).map { k in Double(rows.reduce(0) { $0 + $1.labels[k] }) / Double(rows.count) }
        #expect(rates[1] - rates[0] > 0.04 && rates[2] - rates[1] > 0.04, "positive rates \(rates)")
        let disagreement = Double(rows.filter { $0.labels[0] != $0.labels[1] }.count) / Double(rows.count)
        #expect(disagreement > 0.1, "tasks 0 and 1 disagree on \(disagreement) of the samples")
        #expect(norm.taskOracleAUCs.count == 3 && norm.taskOracleAUCs.allSatisfy { $0 > 0.6 }, "\(norm.taskOracleAUCs)")
        #expect(norm.taskOracleAUCs[0] == norm.oracleAUC && Set(norm.taskOracleAUCs).count == 3)
        let oracle = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: norm.oracleJSON))) as? [String: Any])
        let written = try #require(oracle["eval_auc_per_task"] as? [Double])
        #expect(written.count == 3 && zip(written, norm.taskOracleAUCs).allSatisfy { abs($0 - $1) < 1e-12 }, "\(written)")
        #expect(abs((oracle["eval_auc"] as? Double ?? 0) - norm.oracleAUC) < 1e-12)
        #expect(try SyntheticGenerator.load(directory: folder + "/norm").0 == config)
    }

    @Test("sparseInputs [2, 3]: the same files, read as two inputs whose keys are the one-input keys split")
    func severalSparseInputs() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for format in [SyntheticFormat.norm, .parquet] {
            let one = Self.small(format)
            var two = one
            two.sparseInputs = [2, 3]
            let a = try SyntheticGenerator.generate(one, into: folder + "/one-\(format.rawValue)")
            let b = try SyntheticGenerator.generate(two, into: folder + "/two-\(format.rawValue)")
            #expect(two.layout.sparse.map(\.name) == ["data1", "data2"] && two.layout.sparse.map(\.slotNum) == [2, 3])
            #expect(two.layout.sparse.map(\.maxNNZPerSample) == [3, 5])
            for (x, y) in zip(a.evalFiles + a.trainFiles, b.evalFiles + b.trainFiles) {
                #expect(FileManager.default.contents(atPath: x) == FileManager.default.contents(atPath: y), "\(y) differs")
            }
            let dataFormat = format == .norm ? DataFormat.norm(check: one.check) : Self.parquet(one)
            let reader = try dataFormat.open(source: b.evalList, layout: two.layout, i64Keys: true, batchSize: 256, repeat: false)
            let batch = try #require(try reader.next())
            #expect(batch.sparse.count == 2)
            #expect(batch.sparse[0].rowOffsets.count == 256 * 2 + 1 && batch.sparse[1].rowOffsets.count == 256 * 3 + 1)
            let joined = try Self.samples(dataFormat, a.evalList, one)
            let split = try Self.samples(dataFormat, b.evalList, two)
            #expect(split.count == one.numEval && split.map(\.slots) == joined.map(\.slots))
            #expect(try SyntheticGenerator.load(directory: folder + "/two-\(format.rawValue)").0.layout == two.layout)
        }
    }

    @Test("sequenceLength 5: 5 history slots and a target slot of one item key each; the oracle rises with target-history matches")
    func historySequences() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = Self.small()
        config.sequenceLength = 5
        config.itemVocabulary = 200
        config.sparseInputs = [5, 6]
        let ds = try SyntheticGenerator.generate(config, into: folder + "/norm")
        #expect(config.totalSlots == 11 && config.slotSizeArray == [50, 30, 80, 20, 10, 0, 0, 0, 0, 0, 200])
        #expect(config.layout.sparse.map(\.maxNNZPerSample) == [8, 6])
        let rows = try Self.samples(.norm(check: config.check), ds.evalList, config)
        let items: Range<Int64> = 190 ..< 390
        #expect(rows.count == config.numEval)
        #expect(rows.allSatisfy { row in row.slots[5...].allSatisfy { $0.count == 1 && items.contains($0[0]) } })
        // The target item is not always one of the history's, and items spread over the vocabulary.
        #expect(Set(rows.flatMap { $0.slots[5...].map { $0[0] } }).count > 150)
        #expect(ds.oracleAUC > ds.denseOnlyAUC + 0.15, "oracle \(ds.oracleAUC), dense only \(ds.denseOnlyAUC)")

        // Positives are more frequent when more history items share the target's category.
        func matches(_ row: (labels: [Float], slots: [[Int64]])) -> Int {
            let category = { ($0 - items.lowerBound) % Int64(SyntheticConfig.itemCategories) }
            return row.slots[5 ..< 10].filter { category($0[0]) == category(row.slots[10][0]) }.count
        }
        func rate(_ group: [(labels: [Float], slots: [[Int64]])]) -> Double { Double(group.reduce(0) { $0 + $1.labels[0] }) / Double(group.count) }
        let (low, high) = (rows.filter { matches($0) <= 1 }, rows.filter { matches($0) >= 4 })
        #expect(low.count > 300 && high.count > 300, "\(low.count) and \(high.count) samples")
        #expect(rate(high) > rate(low) + 0.2, "positive rate \(rate(high)) with ≥ 4 matches, \(rate(low)) with ≤ 1")

        // Parquet stores items per slot from 0; the shared offset of slotSizeArray gives the Norm keys back.
        config.format = .parquet
        let pq = try SyntheticGenerator.generate(config, into: folder + "/parquet")
        #expect(try Self.samples(Self.parquet(config), pq.evalList, config).map(\.slots) == rows.map(\.slots))
    }

    @Test("sequenceCategories: after the target come the categories of the 5 history items and of the target, in Norm and Parquet")
    func historyCategories() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = Self.small()
        (config.sequenceLength, config.itemVocabulary, config.sequenceCategories) = (5, 200, true)
        config.sparseInputs = [5, 6, 6]
        let C = SyntheticConfig.itemCategories
        #expect(config.totalSlots == 17 && config.slotSizeArray == [50, 30, 80, 20, 10] + [0, 0, 0, 0, 0, 200] + [0, 0, 0, 0, 0, C])
        let ds = try SyntheticGenerator.generate(config, into: folder + "/norm")
        let rows = try Self.samples(.norm(check: config.check), ds.evalList, config)
        let (items, categoryStart): (Range<Int64>, Int64) = (190 ..< 390, 390)
        #expect(rows.count == config.numEval)
        #expect(rows.allSatisfy { row in
            (0 ..< 6).allSatisfy { h in
                let item = row.slots[5 + h], category = row.slots[11 + h]
                return item.count == 1 && items.contains(item[0]) && category == [categoryStart + (item[0] - items.lowerBound) % Int64(C)]
            }
        })
        // The categories add no signal of their own: the same oracle as without them.
        var plain = config
        (plain.sequenceCategories, plain.sparseInputs) = (false, [5, 6])
        #expect(abs(try SyntheticGenerator.generate(plain, into: folder + "/plain").oracleAUC - ds.oracleAUC) < 1e-12)
        config.format = .parquet
        let pq = try SyntheticGenerator.generate(config, into: folder + "/parquet")
        #expect(try Self.samples(Self.parquet(config), pq.evalList, config).map(\.slots) == rows.map(\.slots))
        #expect(try SyntheticGenerator.load(directory: folder + "/parquet").0 == config)
    }

    @Test("fixedHotness: every sample has exactly nnzPerSlot keys in each slot (counts vary without it); dataset.json keeps it")
    func fixedHotness() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = Self.small()
        config.fixedHotness = true
        let ds = try SyntheticGenerator.generate(config, into: folder + "/fixed")
        let rows = try Self.samples(.norm(check: config.check), ds.evalList, config)
        #expect(rows.count == config.numEval && rows.allSatisfy { $0.slots.map(\.count) == config.nnzPerSlot })
        #expect(try SyntheticGenerator.load(directory: folder + "/fixed").0 == config)
        config.fixedHotness = false
        let varying = try SyntheticGenerator.generate(config, into: folder + "/varying")
        let counts = Set(try Self.samples(.norm(check: config.check), varying.evalList, config).map { $0.slots[3].count })
        #expect(counts == [1, 2, 3])
    }

    @Test("meanCombiner: a slot's keys add their mean, not their sum; the same keys; one-hot data unchanged; dataset.json keeps it")
    func meanCombiner() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // One slot of 3 keys, 1 or 2 of them a sample: a sample of key r twice has the true logit of
        // a sample of r alone with the mean, and r's weight once more with the sum.
        var config = SyntheticConfig(numTrain: 60_000, numEval: 1_000, slotSizes: [3], nnzPerSlot: [2], denseDim: 0,
                                     trainFiles: 1, linearStd: 1.5, interactionPairs: 0, minExpectedCount: 1)
        func rates(_ name: String) throws -> (rows: [(labels: [Float], slots: [[Int64]])], gaps: [Double]) {
            let ds = try SyntheticGenerator.generate(config, into: folder + "/" + name)
            #expect(try SyntheticGenerator.load(directory: folder + "/" + name).0 == config)
            let rows = try Self.samples(.norm(check: config.check), ds.trainList, config)
            let gaps = (0 ..< Int64(3)).map { key in
                func rate(_ keys: [Int64]) -> Double {
                    let matching = rows.filter { $0.slots[0] == keys }
                    return Double(matching.reduce(0) { $0 + $1.labels[0] }) / Double(max(matching.count, 1))
                }
                return abs(rate([key, key]) - rate([key]))
            }
            return (rows, gaps)
        }
        let sum = try rates("sum")
        config.meanCombiner = true
        let mean = try rates("mean")
        #expect(mean.rows.map(\.slots) == sum.rows.map(\.slots) && mean.rows.map(\.labels) != sum.rows.map(\.labels))
        #expect(mean.gaps.allSatisfy { $0 < 0.03 } && sum.gaps.contains { $0 > 0.1 }, "mean \(mean.gaps), sum \(sum.gaps)")
        let meanJSON = try String(contentsOfFile: folder + "/mean/dataset.json", encoding: .utf8)
        let sumJSON = try String(contentsOfFile: folder + "/sum/dataset.json", encoding: .utf8)
        #expect(meanJSON.contains("meanCombiner") && !sumJSON.contains("meanCombiner"))

        var oneHot = Self.small()
        oneHot.nnzPerSlot = [1, 1, 1, 1, 1]
        let plain = try SyntheticGenerator.generate(oneHot, into: folder + "/one-hot")
        oneHot.meanCombiner = true
        let averaged = try SyntheticGenerator.generate(oneHot, into: folder + "/one-hot-mean")
        #expect(try Self.samples(.norm(check: oneHot.check), averaged.evalList, oneHot).map(\.labels)
                == Self.samples(.norm(check: oneHot.check), plain.evalList, oneHot).map(\.labels))
        #expect(averaged.oracleAUC == plain.oracleAUC)
    }

    @Test("the shape options are deterministic for a seed and dataset.json round-trips them", arguments: [SyntheticFormat.norm, .parquet])
    func shapesAreDeterministic(format: SyntheticFormat) throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = Self.small(format)
        config.labelDim = 2
        config.sequenceLength = 3
        config.itemVocabulary = 50
        config.sparseInputs = [1, 4, 4]
        _ = try SyntheticGenerator.generate(config, into: folder + "/a")
        _ = try SyntheticGenerator.generate(config, into: folder + "/b")
        config.seed += 1
        _ = try SyntheticGenerator.generate(config, into: folder + "/c")
        #expect(try Self.hash(folder + "/a") == Self.hash(folder + "/b"))
        #expect(try Self.hash(folder + "/a") != Self.hash(folder + "/c"))
        #expect(try SyntheticGenerator.load(directory: folder + "/c").0 == config)
    }

    @Test("bad shape settings are DataErrors saying what was expected and found")
    func badShapes() {
        func message(_ change: (inout SyntheticConfig) -> Void) -> String {
            var config = Self.small()
            change(&config)
            do { try config.validate(); return "no error" } catch { return "\(error)" }
        }
        #expect(message { $0.labelDim = 0 }.contains("labelDim must be at least 1"))
        #expect(message { $0.sparseInputs = [2, 2] }.contains("summing to the 5 slots; found [2, 2] (sum 4)"))
        #expect(message { $0.sequenceLength = 2; $0.sparseInputs = [5, 2] }.contains("(5 + 2 history + 1 target)"))
        #expect(message { $0.sequenceLength = -1 }.contains("sequenceLength must be ≥ 0"))
        #expect(message { $0.sequenceLength = 2; $0.itemVocabulary = 3 }.contains("itemVocabulary 3"))
        #expect(message { $0.sequenceLength = 2; $0.sparseInputs = [5, 3] } == "no error")
    }

    @Test("swiftctr generate with the shape options as a process; bad values fail saying what was expected and how to fix it")
    func generateCommand() throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotKillTests.binary),
                     "\(SnapshotKillTests.binary) is missing; build it with `swift build` before `swift test`.")
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let base = ["generate", "--train", "400", "--eval", "200", "--slot-sizes", "5,6,7", "--dense-dim", "2", "--format", "parquet"]
        let ok = try EvaluatePredictCLITests.swiftctr(base + ["--out", "g", "--label-dim", "2", "--sparse-inputs", "2,5",
                                                              "--sequence-length", "3", "--item-vocabulary", "40"], in: folder)
        #expect(ok.status == 0, "\(ok.errors)")
        #expect(ok.output.contains("2 label(s), 7 slots (data1 2, data2 5)") && ok.output.contains("slot_size_array 5,6,7,0,0,0,40")
                && ok.output.contains("per label "), "\(ok.output)")
        let written = try SyntheticGenerator.load(directory: folder + "/g").0
        #expect(written.labelDim == 2 && written.sparseInputs == [2, 5] && written.sequenceLength == 3 && written.itemVocabulary == 40)
        for (arguments, wanted) in [
            (["--label-dim", "0"], "--label-dim must be ≥ 1, found 0; use 1 for one label"),
            (["--sparse-inputs", "2,2"], "--sparse-inputs must add up to the 3 slots, found '2,2' (sum 4). Change the counts"),
            (["--sparse-inputs", "2,5", "--sequence-length", "2"], "add up to the 6 slots (3 slots + 2 history + 1 target), found '2,5' (sum 7)"),
            (["--sparse-inputs", "2,x"], "--sparse-inputs expects positive integers separated by commas, found '2,x'"),
            (["--sequence-length=-1"], "--sequence-length must be ≥ 0, found -1; use 0 for no history"),
            (["--sequence-length", "4", "--item-vocabulary", "3"], "--item-vocabulary must be ≥ 8 (one item per latent category), found 3; raise it"),
        ] {
            let bad = try EvaluatePredictCLITests.swiftctr(base + ["--out", "bad"] + arguments, in: folder)
            #expect(bad.status != 0 && bad.errors.contains(wanted), "\(arguments): \(bad.errors)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/bad"))
    }
}
