import CTRCore
import Foundation

/// What a trainer reads batches from, whatever the file format: ``next()`` until nil, then ``stop()``.
///
/// ```swift
/// let source = try DataFormat.norm(check: .sum).open(source: "data/train_list.txt", layout: layout, i64Keys: true,
///                                                    batchSize: 4096, repeat: false)
/// while let batch = try source.next() { train(batch) }
/// ```
public protocol BatchSource: AnyObject {
    /// The next batch, waiting for it if needed; nil at the end of the data (never when repeating).
    func next() throws -> Batch?
    /// Stops the reader's threads and waits for them; ``next()`` then returns nil.
    func stop()
}

/// One data file read front to back: what the workers of a file-list reader (``BatchReader``)
/// need of a format.
protocol RecordFile: AnyObject {
    /// Samples not yet read.
    var remainingRecords: Int { get }
    /// Passes over the next `count` samples.
    func skip(_ count: Int) throws
    /// Appends up to `limit` samples to `acc`; returns how many were appended.
    func read(into acc: BatchAccumulator, upTo limit: Int) throws -> Int
}

extension NormFile: RecordFile {}
extension ParquetFile: RecordFile {}

/// The file format of a data source and its options, as `DataReaderParams` gives them (§3).
public enum DataFormat: Sendable, Equatable {
    /// Norm files named by a file list (§3.3).
    case norm(check: CheckType)
    /// One headerless Raw file of `numSamples` one-hot samples (§3.4).
    case raw(numSamples: Int, floatLabelDense: Bool)
    /// Parquet files named by a file list, with `_metadata.json` beside the first (§3.6).
    case parquet(slotSizeArray: [Int])

    /// The format's name as HugeCTR's `DataReaderType_t` spells it.
    public var name: String {
        switch self {
        case .norm: "Norm"
        case .raw: "Raw"
        case .parquet: "Parquet"
        }
    }

    /// A reader of `source` (a file list for Norm and Parquet, the data file itself for Raw) that
    /// starts after its first `startingAt` batches and decodes into buffers from `pool` (a GPU
    /// backend's pinned memory) when given.
    public func open(source: String, layout: DataLayout, i64Keys: Bool, batchSize: Int, repeat repeats: Bool,
                     numWorkers: Int = 1, prefetch: Int = 4, startingAt startBatch: Int = 0,
                     pool: (any HostBufferPool)? = nil) throws -> any BatchSource {
        switch self {
        case .norm, .parquet:
            return try BatchReader(fileList: source, format: self, layout: layout, i64Keys: i64Keys, batchSize: batchSize,
                                   repeat: repeats, numWorkers: numWorkers, prefetch: prefetch, startingAt: startBatch,
                                   pool: pool)
        case .raw(let numSamples, let floatLabelDense):
            return try RawReader(path: source, layout: layout, i64Keys: i64Keys, numSamples: numSamples,
                                 floatLabelDense: floatLabelDense, batchSize: batchSize, repeat: repeats,
                                 numWorkers: numWorkers, prefetch: prefetch, startingAt: startBatch, pool: pool)
        }
    }

    /// Opens one file of a file list whose first file is `firstFile` (Parquet's `_metadata.json`
    /// is in that file's folder).
    func openFile(_ path: String, layout: DataLayout, i64Keys: Bool, firstFile: String) throws -> any RecordFile {
        switch self {
        case .norm(let check):
            return try NormFile(path: path, layout: layout, i64Keys: i64Keys, check: check)
        case .parquet(let sizes):
            let folder = (firstFile as NSString).deletingLastPathComponent
            return try ParquetFile(path: path, metadata: try ParquetDatasetMetadata(folder: folder), layout: layout,
                                   i64Keys: i64Keys, slotSizeArray: sizes)
        case .raw:
            throw DataError(file: path, "a Raw file is read whole by RawReader, not as part of a file list",
                            fix: "Give the Raw file itself as the source.")
        }
    }
}
