@testable import CTRData
import Foundation
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
}
