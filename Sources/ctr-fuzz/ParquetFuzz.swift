import CTRData
import Foundation

/// Fuzzes ``ParquetFile`` on whole files in memory. The first input byte picks one of the
/// fixture datasets' `_metadata.json` and layout (so the selected columns exist in the seeds);
/// the rest is the Parquet file, read to its end with small batches.
enum ParquetFuzz: FuzzTarget {
    static let name = "parquet"

    private struct Profile {
        var folder: String
        var denseDim: Int
        var slots: Int
        var i64Keys: Bool
    }

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Tests/SwiftCTRTests/Fixtures/parquet").standardized.path

    private static let profiles = [Profile(folder: "plain", denseDim: 2, slots: 2, i64Keys: true),
                                   Profile(folder: "dictionary", denseDim: 1, slots: 2, i64Keys: true),
                                   Profile(folder: "zstd", denseDim: 1, slots: 2, i64Keys: false),
                                   Profile(folder: "multihot", denseDim: 3, slots: 3, i64Keys: true)]

    private static let metadata: [ParquetDatasetMetadata?] = profiles.map { try? ParquetDatasetMetadata(folder: fixtures + "/" + $0.folder) }

    static func seeds() throws -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for (p, profile) in profiles.enumerated() {
            let folder = fixtures + "/" + profile.folder
            for file in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where file.hasSuffix(".parquet") {
                guard let bytes = FileManager.default.contents(atPath: folder + "/" + file) else { continue }
                seeds.append([UInt8(p)] + bytes)
            }
        }
        return seeds
    }

    static func run(_ input: [UInt8]) throws {
        guard let first = input.first else { return }
        let p = Int(first) % profiles.count
        guard let meta = metadata[p] else { return }
        let profile = profiles[p]
        let layout = DataLayout(labelDim: 1, denseDim: profile.denseDim,
                                sparse: [SparseInputLayout(name: "data1", slotNum: profile.slots, maxNNZPerSample: 8 * profile.slots)])
        let file = try ParquetFile(bytes: Array(input.dropFirst()), name: "fuzz.parquet", metadata: meta, layout: layout,
                                   i64Keys: profile.i64Keys, slotSizeArray: first & 0x80 != 0 ? [1000, 0] : [])
        while try file.readBatch(maxCount: 3) != nil {}
    }
}
