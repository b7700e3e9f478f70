import CTRData
import Foundation

// Parquet files (§3.6) through ParquetFile, whole files in memory: the first byte picks one of the
// fixture datasets' `_metadata.json` and layout (so the selected columns exist in the seeds) and
// whether a slot_size_array is added; the rest is the file, read to its end in small batches.

private struct Profile {
    var folder: String
    var denseDim: Int
    var slots: Int
    var i64Keys: Bool
}

// scripts/fuzz.sh runs the targets from the project root.
private let fixtures = FileManager.default.currentDirectoryPath + "/Tests/SwiftCTRTests/Fixtures/parquet"

private let profiles = [Profile(folder: "plain", denseDim: 2, slots: 2, i64Keys: true),
                        Profile(folder: "dictionary", denseDim: 1, slots: 2, i64Keys: true),
                        Profile(folder: "zstd", denseDim: 1, slots: 2, i64Keys: false),
                        Profile(folder: "multihot", denseDim: 3, slots: 3, i64Keys: true)]

private let metadata: [ParquetDatasetMetadata?] = profiles.map { try? ParquetDatasetMetadata(folder: fixtures + "/" + $0.folder) }

func fuzzTarget(_ input: inout FuzzInput) {
    let choice = input.byte()
    let p = Int(choice) % profiles.count
    guard let meta = metadata[p] else { fatalError("the Parquet fixtures are missing under \(fixtures); run the target from the project root") }
    let profile = profiles[p]
    let layout = DataLayout(labelDim: 1, denseDim: profile.denseDim,
                            sparse: [SparseInputLayout(name: "data1", slotNum: profile.slots, maxNNZPerSample: 8 * profile.slots)])
    let bytes = [UInt8](input.rest)
    expectingDataErrors {
        let file = try ParquetFile(bytes: bytes, name: "fuzz.parquet", metadata: meta, layout: layout,
                                   i64Keys: profile.i64Keys, slotSizeArray: choice & 0x80 != 0 ? [1000, 0] : [])
        while let batch = try file.readBatch(maxCount: 3) {
            checkBatch(batch, layout: layout, maxCount: 3)
        }
    }
}

func fuzzSeeds() -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for (p, profile) in profiles.enumerated() {
        let folder = fixtures + "/" + profile.folder
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for file in files.sorted() where file.hasSuffix(".parquet") {
            seeds.append(fuzzSeed([UInt8(p)], fileBytes(folder + "/" + file)))
        }
    }
    return seeds
}
