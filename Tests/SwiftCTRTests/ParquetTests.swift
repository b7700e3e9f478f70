@testable import CTRData
import Foundation
import SwiftCTR
import Testing

/// The Parquet reader against files pyarrow wrote (scripts/make_parquet_fixtures.py), its errors,
/// the writer, and the reader inside BatchReader.
struct ParquetTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parquet").path

    struct Row: Decodable, Equatable {
        var labels: [Float]
        var dense: [Float]
        var slots: [[Int64]]
    }

    static func expected(_ folder: String) throws -> [String: [Row]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/\(folder)/expected.json"))
        return try JSONDecoder().decode([String: [Row]].self, from: data)
    }

    static func layout(slots: Int, denseDim: Int, nnz: Int = 8) -> DataLayout {
        DataLayout(labelDim: 1, denseDim: denseDim, sparse: [SparseInputLayout(name: "data1", slotNum: slots, maxNNZPerSample: slots * nnz)])
    }

    /// Every row of a file, read `batch` rows at a time.
    static func rows(_ path: String, layout: DataLayout, i64Keys: Bool, slotSizes: [Int] = [], batch: Int = 3) throws -> [Row] {
        let folder = (path as NSString).deletingLastPathComponent
        let file = try ParquetFile(path: path, metadata: try ParquetDatasetMetadata(folder: folder), layout: layout,
                                   i64Keys: i64Keys, slotSizeArray: slotSizes)
        var out: [Row] = []
        while let b = try file.readBatch(maxCount: batch) { out += rows(of: b, layout: layout) }
        return out
    }

    static func rows(of b: Batch, layout: DataLayout) -> [Row] {
        let slots = layout.totalSlots
        return (0 ..< b.count).map { i in
            Row(labels: Array(b.labels[i * layout.labelDim ..< (i + 1) * layout.labelDim]),
                dense: Array(b.dense[i * layout.denseDim ..< (i + 1) * layout.denseDim]),
                slots: (0 ..< slots).map { Array(b.sparse[0].row(i * slots + $0)) })
        }
    }

    static func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: [("plain", 2, 2, true), ("dictionary", 1, 2, true), ("zstd", 1, 2, false), ("multihot", 3, 3, true)])
    func fixturesReadAsPyarrowWroteThem(_ folder: String, denseDim: Int, slots: Int, i64Keys: Bool) throws {
        for (file, want) in try Self.expected(folder) {
            let got = try Self.rows(Self.fixtures + "/\(folder)/\(file)", layout: Self.layout(slots: slots, denseDim: denseDim), i64Keys: i64Keys)
            #expect(got == want, "\(folder)/\(file)")
            #expect(!want.isEmpty)
        }
    }

    // MARK: errors in the data

    /// A scratch folder holding copies of a fixture folder's files.
    static func copy(_ folder: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-\(folder)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: fixtures + "/" + folder) {
            try FileManager.default.copyItem(atPath: fixtures + "/\(folder)/\(name)", toPath: dir + "/" + name)
        }
        return dir
    }

    @Test func nullsAreRefusedNamingFileColumnAndRow() {
        let text = Self.message { _ = try Self.rows(Self.fixtures + "/null/part_0.parquet", layout: Self.layout(slots: 2, denseDim: 0), i64Keys: true) }
        #expect(text.contains("part_0.parquet") && text.contains("column 'C2', row 3 is null"), "\(text)")
    }

    @Test func keyWidthMustMatchI64InputKey() {
        let narrow = Self.message { _ = try Self.rows(Self.fixtures + "/plain/part_0.parquet", layout: Self.layout(slots: 2, denseDim: 2), i64Keys: false) }
        #expect(narrow.contains("Parquet key type error") && narrow.contains("'C1'") && narrow.contains("64-bit"), "\(narrow)")
        let wide = Self.message { _ = try Self.rows(Self.fixtures + "/zstd/part_0.parquet", layout: Self.layout(slots: 2, denseDim: 1), i64Keys: true) }
        #expect(wide.contains("Parquet key type error") && wide.contains("32-bit"), "\(wide)")
    }

    @Test func layoutMustMatchTheMetadata() {
        let dense = Self.message { _ = try Self.rows(Self.fixtures + "/plain/part_0.parquet", layout: Self.layout(slots: 2, denseDim: 3), i64Keys: true) }
        #expect(dense.contains("Dense dim of given file and dense dim doesn't match"), "\(dense)")
        let listWidth = Self.message { _ = try Self.rows(Self.fixtures + "/multihot/part_0.parquet", layout: Self.layout(slots: 3, denseDim: 2), i64Keys: true) }
        #expect(listWidth.contains("Dense dim of given file"), "\(listWidth)")
        let slots = Self.message { _ = try Self.rows(Self.fixtures + "/plain/part_0.parquet", layout: Self.layout(slots: 3, denseDim: 2), i64Keys: true) }
        #expect(slots.contains("2 cats columns but the Input has 3 slots"), "\(slots)")
        let nnz = Self.message { _ = try Self.rows(Self.fixtures + "/multihot/part_0.parquet", layout: Self.layout(slots: 3, denseDim: 3, nnz: 1), i64Keys: true) }
        #expect(nnz.contains("too many keys"), "\(nnz)")
    }

    @Test func metadataIsCheckedAgainstTheFooter() throws {
        let dir = try Self.copy("plain")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let layout = Self.layout(slots: 2, denseDim: 2)
        func withMetadata(_ json: String) -> String {
            try? json.write(toFile: dir + "/_metadata.json", atomically: true, encoding: .utf8)
            return Self.message { _ = try Self.rows(dir + "/part_0.parquet", layout: layout, i64Keys: true) }
        }
        let columns = #""labels": [{"col_name": "label", "index": 0}], "conts": [{"col_name": "a", "index": 1}, {"col_name": "b", "index": 2}], "cats": [{"col_name": "x", "index": 3}, {"col_name": "y", "index": 4}]"#
        #expect(withMetadata(#"{"file_stats": [{"file_name": "some/folder/part_0.parquet", "num_rows": 10}], "# + columns + "}") == "no error")
        #expect(withMetadata(#"{"file_stats": [{"file_name": "part_0.parquet", "num_rows": 11}], "# + columns + "}").contains("expected num_rows 10"))
        #expect(withMetadata(#"{"file_stats": [{"file_name": "other.parquet", "num_rows": 10}], "# + columns + "}").contains("no file_stats entry for 'part_0.parquet'"))
        let outside = withMetadata(#"{"file_stats": [{"file_name": "part_0.parquet", "num_rows": 10}], "# + columns.replacingOccurrences(of: "\"index\": 4", with: "\"index\": 9") + "}")
        #expect(outside.contains("index 9") && outside.contains("not in the file"), "\(outside)")
        let string = withMetadata(#"{"file_stats": [{"file_name": "part_0.parquet", "num_rows": 10}], "# + columns.replacingOccurrences(of: "\"index\": 2", with: "\"index\": 5") + "}")
        #expect(string.contains("BYTE_ARRAY values") && string.contains("float32"), "\(string)")
        #expect(withMetadata("[1]").contains("not a JSON object"))
        try FileManager.default.removeItem(atPath: dir + "/_metadata.json")
        #expect(Self.message { _ = try DataFormat.parquet(slotSizeArray: []).open(source: Self.list([dir + "/part_0.parquet"]), layout: layout, i64Keys: true, batchSize: 4, repeat: false) }
            .contains("no _metadata.json beside its first data file"))
    }

    @Test func malformedFilesAreDataErrors() throws {
        let good = [UInt8](FileManager.default.contents(atPath: Self.fixtures + "/plain/part_0.parquet")!)
        let meta = try ParquetDatasetMetadata(folder: Self.fixtures + "/plain")
        func read(_ bytes: [UInt8]) -> String {
            Self.message {
                let f = try ParquetFile(bytes: bytes, name: "bad.parquet", metadata: meta, layout: Self.layout(slots: 2, denseDim: 2),
                                        i64Keys: true, slotSizeArray: [])
                while try f.readBatch(maxCount: 4) != nil {}
            }
        }
        #expect(read(good) == "no error")
        #expect(read(Array(good.prefix(8))).contains("too short to be a Parquet file"))
        #expect(read(Array(good.prefix(good.count - 1))).contains("magic"))
        var longFooter = good
        longFooter[good.count - 5] = 0x7F
        #expect(read(longFooter).contains("footer length exceeds the file"))
        // Every truncation of a column chunk and every flipped byte is an error or a clean read, never a crash.
        for cut in stride(from: 4, to: good.count - 8, by: 97) {
            var damaged = good
            damaged.replaceSubrange(cut ..< cut + 3, with: [0xFF, 0x00, 0x7F])
            _ = read(damaged)
        }
    }

    // MARK: slot offsets and the file-list reader

    @Test func slotSizeArrayOffsetsKeys() throws {
        #expect(try ParquetFile.slotOffsets([10, 0, 5], slots: 4, i64Keys: true) == [0, 10, 10, 15])
        #expect(try ParquetFile.slotOffsets([7], slots: 3, i64Keys: true) == [0, 7, 7])
        #expect(try ParquetFile.slotOffsets([], slots: 2, i64Keys: false) == [0, 0])
        #expect(Self.message { _ = try ParquetFile.slotOffsets([1, 2, 3], slots: 2, i64Keys: true) }.contains("at most one non-negative entry per slot"))
        #expect(Self.message { _ = try ParquetFile.slotOffsets([Int(UInt32.max), 1, 0], slots: 3, i64Keys: false) }.contains("do not fit the key type"))
        let path = Self.fixtures + "/multihot/part_0.parquet"
        let layout = Self.layout(slots: 3, denseDim: 3)
        let plain = try Self.rows(path, layout: layout, i64Keys: true)
        let offset = try Self.rows(path, layout: layout, i64Keys: true, slotSizes: [20, 7])
        #expect(offset.map { $0.slots[0] } == plain.map { $0.slots[0] })
        #expect(offset.map { $0.slots[1] } == plain.map { $0.slots[1].map { $0 + 20 } })
        #expect(offset.map { $0.slots[2] } == plain.map { $0.slots[2].map { $0 + 27 } })
        // A 32-bit key past UInt32.max once offset is refused.
        let zstd = Self.message { _ = try Self.rows(Self.fixtures + "/zstd/part_0.parquet", layout: Self.layout(slots: 2, denseDim: 1),
                                                    i64Keys: false, slotSizes: [Int(UInt32.max) - 100]) }
        #expect(zstd.contains("does not fit the key type") && zstd.contains("'C2'"), "\(zstd)")
    }

    static func list(_ files: [String]) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-list-\(UUID().uuidString).txt").path
        try? FileList.write(files, to: path)
        return path
    }

    @Test func batchReaderStripesParquetFilesAndSkips() throws {
        let want = try Self.expected("plain")
        let files = ["part_0.parquet", "part_1.parquet"].map { Self.fixtures + "/plain/" + $0 }
        let layout = Self.layout(slots: 2, denseDim: 2)
        let format = DataFormat.parquet(slotSizeArray: [])
        func read(workers: Int, skip: Int) throws -> [Row] {
            let source = try format.open(source: Self.list(files), layout: layout, i64Keys: true, batchSize: 3, repeat: false,
                                         numWorkers: workers, startingAt: skip)
            var rows: [Row] = []
            while let b = try source.next() { rows += Self.rows(of: b, layout: layout) }
            return rows
        }
        let a = want["part_0.parquet"]!, b = want["part_1.parquet"]!
        #expect(try read(workers: 1, skip: 0) == a + b)
        // Two workers: batches of 3 alternate between the files (10 and 7 rows).
        let alternating = [a[0 ..< 3], b[0 ..< 3], a[3 ..< 6], b[3 ..< 6], a[6 ..< 9], b[6 ..< 7], a[9 ..< 10]].flatMap { $0 }
        #expect(try read(workers: 2, skip: 0) == alternating)
        // Resuming after 3 batches skips whole row groups and part of one.
        #expect(try read(workers: 1, skip: 3) == Array((a + b)[9...]))
        #expect(try read(workers: 2, skip: 3) == Array(alternating[9...]))
    }

    // MARK: the writer and the generator

    /// Every batch of a file list, in order.
    static func batches(_ format: DataFormat, _ list: String, layout: DataLayout, i64Keys: Bool, batch: Int) throws -> [Row] {
        let source = try format.open(source: list, layout: layout, i64Keys: i64Keys, batchSize: batch, repeat: false)
        var rows: [Row] = []
        while let b = try source.next() { rows += Self.rows(of: b, layout: layout) }
        return rows
    }

    static func generated(_ format: SyntheticFormat, compression: ParquetCompression = .snappy, rowGroupSize: Int = 64,
                          i64Keys: Bool) throws -> (SyntheticConfig, GeneratedDataset) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-gen-\(UUID().uuidString)").path
        let config = SyntheticConfig(numTrain: 300, numEval: 90, slotSizes: [30, 20, 40], nnzPerSlot: [1, 3, 2], denseDim: 3,
                                     seed: 11, trainFiles: 2, evalFiles: 1, i64Keys: i64Keys, check: .sum, format: format,
                                     compression: compression.name, rowGroupSize: rowGroupSize)
        return (config, try SyntheticGenerator.generate(config, into: dir))
    }

    @Test(arguments: [(ParquetCompression.uncompressed, true), (.snappy, false), (.zstd, true)])
    func generatedParquetHoldsTheNormSamples(_ compression: ParquetCompression, i64Keys: Bool) throws {
        let (config, norm) = try Self.generated(.norm, i64Keys: i64Keys)
        let (_, parquet) = try Self.generated(.parquet, compression: compression, rowGroupSize: 64, i64Keys: i64Keys)
        defer {
            try? FileManager.default.removeItem(atPath: norm.directory)
            try? FileManager.default.removeItem(atPath: parquet.directory)
        }
        #expect(norm.oracleAUC == parquet.oracleAUC)
        for (n, p) in [(norm.trainList, parquet.trainList), (norm.evalList, parquet.evalList)] {
            let want = try Self.batches(.norm(check: .sum), n, layout: config.layout, i64Keys: i64Keys, batch: 50)
            let got = try Self.batches(.parquet(slotSizeArray: config.slotSizes), p, layout: config.layout, i64Keys: i64Keys, batch: 50)
            #expect(got == want && !want.isEmpty)
        }
        let metadata = try ParquetDatasetMetadata(folder: parquet.directory + "/train")
        #expect(metadata.fileRows == ["part_0.parquet": 150, "part_1.parquet": 150])
        #expect(metadata.cats.map(\.index) == [4, 5, 6] && metadata.conts.map(\.name) == ["I1", "I2", "I3"])
    }

    @Test func modelTrainsOnParquetExactlyAsOnNorm() throws {
        let (config, norm) = try Self.generated(.norm, i64Keys: true)
        let (_, parquet) = try Self.generated(.parquet, compression: .snappy, rowGroupSize: 100, i64Keys: true)
        defer {
            try? FileManager.default.removeItem(atPath: norm.directory)
            try? FileManager.default.removeItem(atPath: parquet.directory)
        }
        func losses(_ reader: DataReaderParams) throws -> [Double] {
            let model = try Model(Solver(seed: 3, batchsizeEval: 30, batchsize: 25, i64InputKey: true), reader, CreateOptimizer())
            model.printsProgress = false
            let input = DataReaderSparseParam("data1", nnzPerSlot: config.nnzPerSlot, isFixedLength: false, slotNum: 3)
            model.add(Input(labelDim: 1, labelName: "label", denseDim: 3, denseName: "dense", dataReaderSparseParamArray: [input]))
            model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 1, embeddingVecSize: 4,
                                      combiner: "sum", sparseEmbeddingName: "emb", bottomName: "data1"))
            model.add(DenseLayer(.reshape, bottomNames: ["emb"], topNames: ["flat"], leadingDim: 12))
            model.add(DenseLayer(.concat, bottomNames: ["flat", "dense"], topNames: ["all"]))
            model.add(DenseLayer(.innerProduct, bottomNames: ["all"], topNames: ["fc"], numOutput: 1))
            model.add(DenseLayer(.binaryCrossEntropyLoss, bottomNames: ["fc", "label"], topNames: ["loss"]))
            try model.compile()
            return try model.fit(maxIter: 12, display: 1, evalInterval: 12).map(\.loss)
        }
        // One worker each, so both read the samples in file order.
        let normLosses = try losses(DataReaderParams(dataReaderType: .norm, source: [norm.trainList], evalSource: norm.evalList, checkType: .sum,
                                                     numWorkers: 1))
        let parquetLosses = try losses(DataReaderParams(dataReaderType: .parquet, source: [parquet.trainList], evalSource: parquet.evalList,
                                                        checkType: .sum, numWorkers: 1, slotSizeArray: config.slotSizes))
        #expect(normLosses == parquetLosses && normLosses.count >= 12)
    }

    /// How pyarrow reads a Parquet file: rows, row groups, schema and the columns by name.
    struct PyarrowTable: Decodable {
        var rows: Int
        var groups: Int
        var types: [String]
        var names: [String]
        var data: [String: [JSONNumberOrList]]
    }

    /// `file` as pyarrow reads it, or nil (with a line saying why `test` is skipped) when python3
    /// with pyarrow cannot be run.
    static func pyarrowRead(_ file: String, test: String = #function) throws -> PyarrowTable? {
        let script = """
        import json, sys
        try:
            import pyarrow.parquet as pq
        except ImportError:
            print("NO-PYARROW"); sys.exit(0)
        t = pq.read_table(sys.argv[1])
        meta = pq.ParquetFile(sys.argv[1]).metadata
        print(json.dumps({"rows": t.num_rows, "groups": meta.num_row_groups, "types": [str(f.type) for f in t.schema],
                          "names": t.schema.names, "data": t.to_pydict()}))
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, file]
        let pipe = Pipe()
        process.standardOutput = pipe
        do {
            try process.run()
        } catch {
            print("skipping \(test): python3 cannot be started (\(error))")
            return nil
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, String(decoding: output, as: UTF8.self) != "NO-PYARROW\n" else {
            print("skipping \(test): python3 \(process.terminationStatus == 0 ? "has no pyarrow" : "failed") (python3 -m pip install pyarrow)")
            return nil
        }
        return try JSONDecoder().decode(PyarrowTable.self, from: output)
    }

    @Test func pyarrowReadsWhatTheWriterWrote() throws {
        let (config, parquet) = try Self.generated(.parquet, compression: .zstd, rowGroupSize: 40, i64Keys: false)
        defer { try? FileManager.default.removeItem(atPath: parquet.directory) }
        let file = parquet.directory + "/train/part_0.parquet"
        guard let read = try Self.pyarrowRead(file) else { return }
        #expect(read.rows == 150 && read.groups == 4)
        #expect(read.names == ["label", "I1", "I2", "I3", "C1", "C2", "C3"])
        #expect(read.types == ["float", "float", "float", "float", "uint32", "list<element: uint32 not null>", "list<element: uint32 not null>"])
        let layout = config.layout
        let ours = try Self.rows(file, layout: layout, i64Keys: false)
        for (r, row) in ours.enumerated() {
            #expect(read.data["label"]![r].values == row.labels.map(Double.init))
            #expect((1 ... 3).map { read.data["I\($0)"]![r].values[0] } == row.dense.map(Double.init))
            #expect((1 ... 3).map { read.data["C\($0)"]![r].values.map { Int64($0) } } == row.slots)
        }
    }

    /// A JSON number or list of numbers, as pyarrow's to_pydict gives a cell.
    struct JSONNumberOrList: Decodable {
        var values: [Double]
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let list = try? c.decode([Double].self) {
                values = list
            } else {
                values = [try c.decode(Double.self)]
            }
        }
    }

    @Test func generateCommandWritesParquet() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try EvaluatePredictCLITests.swiftctr(["generate", "--out", "pq", "--format", "parquet", "--compression", "zstd", "--train", "120",
                                                        "--eval", "30", "--slot-sizes", "5,6,7", "--nnz", "1,2,1", "--dense-dim", "2",
                                                        "--row-group-size", "25", "--files", "2"], in: folder)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output.contains("slot_size_array 5,6,7"), "\(run.output)")
        let layout = DataLayout(labelDim: 1, denseDim: 2, sparse: [SparseInputLayout(name: "data1", nnzPerSlot: [1, 2, 1])])
        let rows = try Self.batches(.parquet(slotSizeArray: [5, 6, 7]), folder + "/pq/train/_file_list.txt", layout: layout, i64Keys: true, batch: 32)
        #expect(rows.count == 120)
        #expect(rows.allSatisfy { $0.slots[0].allSatisfy { (0 ..< 5).contains($0) } && $0.slots[1].allSatisfy { (5 ..< 11).contains($0) } })
        let bad = try EvaluatePredictCLITests.swiftctr(["generate", "--out", "x", "--format", "csv"], in: folder)
        #expect(bad.status != 0 && bad.errors.contains("'csv' is invalid for '--format") && bad.errors.contains("raw"), "\(bad.errors)")
    }
}
