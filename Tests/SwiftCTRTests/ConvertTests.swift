import CTRData
import CTRCore
import Foundation
import Testing

/// A Criteo-style line: label, 13 dense fields, 26 categorical fields (given as text, "" = empty).
private func line(_ label: String, _ dense: [String], _ cats: [String]) -> String {
    ([label] + dense + cats).joined(separator: "\t")
}

/// Lines whose slot s holds value (i mod (s + 2)) in hex, with empty fields and negatives mixed in.
private func sampleLines(_ n: Int) -> [String] {
    (0 ..< n).map { i in
        let dense = (0 ..< 13).map { d in (i + d) % 7 == 0 ? "" : (i + d) % 5 == 0 ? "-\(d)" : "\(i * d % 100)" }
        let cats = (0 ..< 26).map { s in (i + s) % 9 == 0 ? "" : String(i % (s + 2), radix: 16) + "a0" }
        return line("\(i % 2)", dense, cats)
    }
}

/// The reference conversion of `lines`: dense clipped at 0, key ids by a naive frequency count.
private func reference(_ lines: [String], minFrequency: Int) -> (dense: [[Int]], keys: [[Int64]], sizes: [Int]) {
    let fields = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    var sizes: [Int] = []
    var ids: [[String: Int]] = []
    for s in 0 ..< 26 {
        var counts: [String: Int] = [:]
        for f in fields where !f[14 + s].isEmpty { counts[f[14 + s], default: 0] += 1 }
        let kept = counts.filter { $0.value >= minFrequency }.keys.sorted { UInt64($0, radix: 16)! < UInt64($1, radix: 16)! }
        ids.append(Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0 + 1) }))
        sizes.append(kept.count + 1)
    }
    var offsets: [Int] = [0]
    for size in sizes { offsets.append(offsets.last! + size) }
    var dense: [[Int]] = []
    var keys: [[Int64]] = []
    for f in fields {
        var row: [Int] = []
        for d in 1 ... 13 { row.append(max(0, Int(f[d]) ?? 0)) }
        dense.append(row)
        var rowKeys: [Int64] = []
        for s in 0 ..< 26 { rowKeys.append(Int64(offsets[s] + (ids[s][f[14 + s]] ?? 0))) }
        keys.append(rowKeys)
    }
    return (dense, keys, sizes)
}

private func write(_ lines: [String], _ path: String, crlf: Bool = false) {
    let text = lines.map { $0 + (crlf ? "\r\n" : "\n") }.joined()
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

private let criteoLayout = DataLayout(labelDim: 1, denseDim: 13, sparse: [SparseInputLayout(name: "data1", slotNum: 26, maxNNZPerSample: 26)])

@Suite("swiftctr convert: Criteo TSV into Norm and Raw")
struct ConvertTests {
    @Test("Norm with a frequency threshold matches a naive reference: log(x+1) of clipped dense values, rare and missing values on key 0")
    func normMatchesReference() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lines = sampleLines(300)
        write(lines, folder + "/in.tsv", crlf: true)
        var options = ConvertOptions()
        options.minFrequency = 4
        options.threads = 3
        options.chunkBytes = 2000
        options.samplesPerFile = 128
        let ds = try CriteoConverter.convert(input: folder + "/in.tsv", into: folder + "/out", options: options)
        let ref = reference(lines, minFrequency: 4)
        #expect(ds.trainSamples == 300 && ds.slotSizeArray == ref.sizes)
        let files = try FileList.read(ds.trainSource)
        #expect(files.count == 3)
        var batches: [Batch] = []
        for file in files {
            let f = try NormFile(path: file, layout: criteoLayout, i64Keys: false, check: .sum)
            while let b = try f.readBatch(maxCount: 1000) { batches.append(b) }
        }
        #expect(batches.map(\.count) == [128, 128, 44])
        let labels = batches.flatMap(\.labels), dense = batches.flatMap(\.dense), keys = batches.flatMap { $0.sparse[0].keys }
        #expect(labels == (0 ..< 300).map { Float($0 % 2) })
        #expect(dense == ref.dense.flatMap { $0.map { log(Float($0) + 1) } })
        #expect(keys == ref.keys.flatMap { $0 })
        let json = try String(contentsOfFile: ds.slotSizeFile, encoding: .utf8)
        #expect(json.contains("\"slot_size_array\": [\(ref.sizes.map(String.init).joined(separator: ", "))]"))
    }

    @Test("Raw with hashing: int32 dense read back as log(x+1), keys s·S + 1 + v mod (S−1), empty fields on key s·S")
    func rawHashed() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lines = sampleLines(50) + [line("1", Array(repeating: "", count: 13), Array(repeating: "", count: 26))]
        write(lines, folder + "/in.tsv")
        var options = ConvertOptions()
        options.format = .raw
        options.hashSize = 10
        options.threads = 2
        options.chunkBytes = 1500
        let ds = try CriteoConverter.convert(input: folder + "/in.tsv", eval: folder + "/in.tsv", into: folder + "/out", options: options)
        #expect(ds.slotSizeArray == Array(repeating: 10, count: 26) && ds.evalSamples == 51)
        let reader = try RawReader(path: ds.trainSource, layout: criteoLayout, i64Keys: false, numSamples: 51, floatLabelDense: false,
                                   batchSize: 64, repeat: false)
        let b = try #require(try reader.next())
        reader.stop()
        let fields = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let dense: [Float] = fields.flatMap { f in (1 ... 13).map { log(Float(max(0, Int(f[$0]) ?? 0)) + 1) } }
        var keys: [Int64] = []
        for f in fields {
            for s in 0 ..< 26 {
                let hashed: Int64 = f[14 + s].isEmpty ? 0 : 1 + Int64(UInt64(f[14 + s], radix: 16)! % 9)
                keys.append(Int64(10 * s) + hashed)
            }
        }
        #expect(b.dense.array == dense && b.sparse[0].keys.array == keys && b.labels.last == 1)
        #expect(FileManager.default.fileExists(atPath: folder + "/out/eval_data.bin"))
    }

    @Test("converting the same file twice, with other thread counts and chunk sizes, gives identical bytes")
    func deterministic() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        write(sampleLines(400), folder + "/in.tsv")
        var outputs: [Data] = []
        for (threads, chunk) in [(1, 1 << 20), (4, 700), (2, 3001)] {
            var options = ConvertOptions()
            options.minFrequency = 2
            options.threads = threads
            options.chunkBytes = chunk
            let out = folder + "/out\(threads)"
            let ds = try CriteoConverter.convert(input: folder + "/in.tsv", into: out, options: options)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: try FileList.read(ds.trainSource)[0])))
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: ds.slotSizeFile)))
        }
        #expect(outputs[0] == outputs[2] && outputs[0] == outputs[4] && outputs[1] == outputs[3] && outputs[1] == outputs[5])
    }

    static let malformed: [(String, String)] = [
        (line("2", Array(repeating: "1", count: 13), Array(repeating: "a", count: 26)), "the label must be 0 or 1, found '2'"),
        (line("", Array(repeating: "1", count: 13), Array(repeating: "a", count: 26)), "the label must be 0 or 1, found an empty field"),
        (line("1", ["1.5"] + Array(repeating: "1", count: 12), Array(repeating: "a", count: 26)), "column 2 (I1) must be an integer, found '1.5'"),
        (line("1", Array(repeating: "1", count: 13), ["xyz"] + Array(repeating: "a", count: 25)), "column 15 (C1) must be a hexadecimal value"),
        (line("1", Array(repeating: "1", count: 13), Array(repeating: "a", count: 25)), "expected 40 tab-separated fields"),
        ("", "found 1"),
    ]

    @Test("a malformed line stops the conversion with its line number", arguments: 0 ..< 6)
    func malformedLine(_ index: Int) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (bad, message) = Self.malformed[index]
        write(sampleLines(97) + [bad] + sampleLines(5), folder + "/in.tsv")
        var options = ConvertOptions()
        options.threads = 3
        options.chunkBytes = 999
        let error = #expect(throws: DataError.self) { try CriteoConverter.convert(input: folder + "/in.tsv", into: folder + "/out", options: options) }
        #expect(error?.message.contains("line 98: ") == true && error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: folder + "/out/train/part_0.bin"))
    }

    @Test("bad options and inputs are refused with their reason")
    func badOptions() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options = ConvertOptions()
        options.hashSize = 8
        options.minFrequency = 3
        let both = #expect(throws: DataError.self) { try CriteoConverter.convert(input: "x.tsv", into: folder, options: options) }
        #expect(both?.message.contains("exclude each other") == true)
        let missing = #expect(throws: DataError.self) { try CriteoConverter.convert(input: folder + "/none.tsv", into: folder) }
        #expect(missing?.message.contains("does not exist") == true)
        write([], folder + "/empty.tsv")
        let empty = #expect(throws: DataError.self) { try CriteoConverter.convert(input: folder + "/empty.tsv", into: folder + "/o") }
        #expect(empty?.message.contains("no samples") == true)
    }
}

/// The `slot_size_array` and `format` of a conversion's `slot_size_array.json`.
private func slotSizeJSON(_ path: String) throws -> (sizes: [Int], format: String) {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    return (try #require(object["slot_size_array"] as? [Int]), try #require(object["format"] as? String))
}

/// The first key of every slot of every row, less the slot's start: the per-slot keys of a Parquet conversion.
private func localKeys(_ ref: (dense: [[Int]], keys: [[Int64]], sizes: [Int])) -> [[Int64]] {
    let starts = ref.sizes.indices.map { Int64(ref.sizes[..<$0].reduce(0, +)) }
    return ref.keys.map { row in row.indices.map { row[$0] - starts[$0] } }
}

@Suite("swiftctr convert --format parquet")
struct ConvertParquetTests {
    @Test("Parquet read with the json's slot_size_array gives the Norm conversion's samples; its own keys are per slot",
          arguments: [(ParquetCompression.snappy, false), (.zstd, true)])
    func parquetReadsAsNorm(_ compression: ParquetCompression, i64Keys: Bool) throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        write(sampleLines(300), folder + "/train.tsv")
        write(sampleLines(70).reversed(), folder + "/eval.tsv")
        var options = ConvertOptions()
        options.minFrequency = 2
        options.threads = 3
        options.chunkBytes = 2000
        options.i64Keys = i64Keys
        options.samplesPerFile = 64
        let norm = try CriteoConverter.convert(input: folder + "/train.tsv", eval: folder + "/eval.tsv", into: folder + "/norm", options: options)
        options.format = .parquet
        options.compression = compression
        options.rowGroupSize = 16
        let parquet = try CriteoConverter.convert(input: folder + "/train.tsv", eval: folder + "/eval.tsv", into: folder + "/pq", options: options)
        let json = try slotSizeJSON(parquet.slotSizeFile)
        #expect(json.format == "Parquet" && json.sizes == norm.slotSizeArray && parquet.slotSizeArray == norm.slotSizeArray)
        #expect(parquet.trainSource == folder + "/pq/train/_file_list.txt" && parquet.evalSource == folder + "/pq/eval/_file_list.txt")
        for (n, p, count) in [(norm.trainSource, parquet.trainSource, 300), (norm.evalSource!, parquet.evalSource!, 70)] {
            let want = try ParquetTests.batches(.norm(check: .sum), n, layout: criteoLayout, i64Keys: i64Keys, batch: 50)
            let got = try ParquetTests.batches(.parquet(slotSizeArray: json.sizes), p, layout: criteoLayout, i64Keys: i64Keys, batch: 50)
            #expect(want.count == count && got == want)
            let perSlot = try ParquetTests.batches(.parquet(slotSizeArray: []), p, layout: criteoLayout, i64Keys: i64Keys, batch: 50)
            #expect(perSlot.allSatisfy { row in row.slots.indices.allSatisfy { s in row.slots[s].count == 1 && (0 ..< Int64(json.sizes[s])).contains(row.slots[s][0]) } })
        }
        let metadata = try ParquetDatasetMetadata(folder: folder + "/pq/train")
        #expect(metadata.fileRows == ["part_0.parquet": 64, "part_1.parquet": 64, "part_2.parquet": 64, "part_3.parquet": 64, "part_4.parquet": 44])
        #expect(metadata.cats.map(\.index) == Array(14 ..< 40) && metadata.conts.first?.name == "I1")
        #expect(try ParquetDatasetMetadata(folder: folder + "/pq/eval").fileRows == ["part_0.parquet": 64, "part_1.parquet": 6])
    }

    @Test("converting the same TSV twice to Parquet, with other thread counts and chunk sizes, gives identical bytes")
    func parquetDeterministic() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        write(sampleLines(400), folder + "/in.tsv")
        var outputs: [[String: Data]] = []
        for (threads, chunk) in [(1, 1 << 20), (4, 700)] {
            var options = ConvertOptions()
            options.format = .parquet
            options.threads = threads
            options.chunkBytes = chunk
            options.rowGroupSize = 50
            options.samplesPerFile = 150
            let out = folder + "/out\(threads)"
            _ = try CriteoConverter.convert(input: folder + "/in.tsv", into: out, options: options)
            var files: [String: Data] = ["slot_size_array.json": try Data(contentsOf: URL(fileURLWithPath: out + "/slot_size_array.json"))]
            for name in try FileManager.default.contentsOfDirectory(atPath: out + "/train") {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: out + "/train/" + name))
            }
            outputs.append(files)
        }
        #expect(outputs[0].keys.sorted() == ["_file_list.txt", "_metadata.json", "part_0.parquet", "part_1.parquet", "part_2.parquet", "slot_size_array.json"])
        #expect(outputs[0] == outputs[1])
    }

    @Test("pyarrow reads a converted file: columns label, I1…I13, C1…C26, row groups, log(x+1) dense values and per-slot uint32 keys")
    func pyarrowReadsConvertedParquet() throws {
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lines = sampleLines(120)
        write(lines, folder + "/in.tsv")
        var options = ConvertOptions()
        options.format = .parquet
        options.compression = .zstd
        options.rowGroupSize = 25
        _ = try CriteoConverter.convert(input: folder + "/in.tsv", into: folder + "/pq", options: options)
        guard let read = try ParquetTests.pyarrowRead(folder + "/pq/train/part_0.parquet") else { return }
        #expect(read.rows == 120 && read.groups == 5)
        #expect(read.names == ["label"] + (1 ... 13).map { "I\($0)" } + (1 ... 26).map { "C\($0)" })
        #expect(read.types == Array(repeating: "float", count: 14) + Array(repeating: "uint32", count: 26))
        let ref = reference(lines, minFrequency: 1)
        let keys = localKeys(ref)
        for r in [0, 1, 57, 119] {
            #expect(read.data["label"]![r].values == [Double(r % 2)])
            #expect((1 ... 13).map { read.data["I\($0)"]![r].values } == ref.dense[r].map { [Double(log(Float($0) + 1))] })
            #expect((1 ... 26).map { read.data["C\($0)"]![r].values } == keys[r].map { [Double($0)] })
        }
    }
}

@Suite("swiftctr convert and generate --format raw as processes")
struct ConvertCLITests {
    @Test("convert prints the slot sizes and a progress line; a bad line fails with its number; generate --format raw prints the sample counts")
    func commands() throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotKillTests.binary),
                     "\(SnapshotKillTests.binary) is missing; build it with `swift build` before `swift test`.")
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        write(sampleLines(40), folder + "/in.tsv")
        let ok = try EvaluatePredictCLITests.swiftctr(["convert", "in.tsv", "--out", "out", "--format", "raw", "--hash-size", "5",
                                                       "--threads", "2"], in: folder)
        #expect(ok.status == 0 && ok.output.contains("wrote 40 samples") && ok.output.contains("[5, 5, 5"))
        #expect(ok.errors.contains("pass 1/1: 40 samples"))
        #expect(FileManager.default.fileExists(atPath: folder + "/out/train_data.bin"))
        write(sampleLines(3) + ["1\tx"], folder + "/bad.tsv")
        let bad = try EvaluatePredictCLITests.swiftctr(["convert", "bad.tsv", "--out", "o2"], in: folder)
        #expect(bad.status != 0 && bad.errors.contains("line 4: "))
        let wrongFlag = try EvaluatePredictCLITests.swiftctr(["convert", "in.tsv", "--out", "o3", "--float-label-dense"], in: folder)
        #expect(wrongFlag.status != 0 && wrongFlag.errors.contains("applies to --format raw only"))
        let raw = try EvaluatePredictCLITests.swiftctr(["generate", "--out", "g", "--format", "raw", "--train", "300", "--eval", "100",
                                                        "--slot-sizes", "5,6", "--key-type", "I32", "--dense-dim", "2"], in: folder)
        #expect(raw.status == 0 && raw.output.contains("(num_samples 300)") && raw.output.contains("(eval_num_samples 100)"))
        #expect(FileManager.default.fileExists(atPath: folder + "/g/train_data.bin"))
    }

    @Test("convert --format parquet writes train/ and eval/ with per-slot keys; Parquet options given wrongly fail saying what was expected")
    func parquetCommand() throws {
        try #require(FileManager.default.isExecutableFile(atPath: SnapshotKillTests.binary),
                     "\(SnapshotKillTests.binary) is missing; build it with `swift build` before `swift test`.")
        let folder = MF.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lines = sampleLines(60)
        write(lines, folder + "/in.tsv")
        let ok = try EvaluatePredictCLITests.swiftctr(["convert", "in.tsv", "--eval", "in.tsv", "--out", "pq", "--format", "parquet", "--compression", "zstd",
                                                       "--row-group-size", "10", "--samples-per-file", "25", "--threads", "2"], in: folder)
        #expect(ok.status == 0 && ok.output.contains("wrote 60 samples") && ok.output.contains("keys are per slot"), "\(ok.errors)")
        let json = try slotSizeJSON(folder + "/pq/slot_size_array.json")
        #expect(json.format == "Parquet")
        #expect(try FileList.read(folder + "/pq/train/_file_list.txt").map { ($0 as NSString).lastPathComponent }
                == ["part_0.parquet", "part_1.parquet", "part_2.parquet"])
        let rows = try ParquetTests.batches(.parquet(slotSizeArray: json.sizes), folder + "/pq/eval/_file_list.txt", layout: criteoLayout,
                                            i64Keys: false, batch: 16)
        #expect(rows.map(\.labels) == (0 ..< 60).map { [Float($0 % 2)] })
        #expect(rows.map { $0.slots.map { $0[0] } } == reference(lines, minFrequency: 1).keys)
        for (arguments, message) in [(["--format", "parquet", "--compression", "lz4"], "--compression must be none, snappy or zstd, found 'lz4'"),
                                     (["--format", "parquet", "--float-label-dense"], "applies to --format raw only, found it with --format parquet"),
                                     (["--compression", "zstd"], "apply to --format parquet only, found them with --format norm"),
                                     (["--format", "parquet", "--row-group-size", "0"], "--row-group-size must be ≥ 1, found 0")] {
            let bad = try EvaluatePredictCLITests.swiftctr(["convert", "in.tsv", "--out", "bad"] + arguments, in: folder)
            #expect(bad.status != 0 && bad.errors.contains(message), "\(arguments): \(bad.errors)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/bad"))
    }
}
