import Foundation

/// Where ``CriteoConverter`` puts one split: a format's files. ``encoder`` turns parsed chunks
/// into the format's bytes on the worker threads; ``write(_:samples:)`` then gets them in input
/// order. A new format adds one sink and, unless an existing encoder's bytes serve, one encoder.
protocol ConversionSink: AnyObject {
    var encoder: any ChunkEncoder { get }
    func write(_ bytes: [UInt8], samples: Int) throws
    /// Finishes the files; returns the reader's source (a file list, or the data file itself).
    func finish() throws -> String
}

/// Encodes the samples of a parsed chunk; called concurrently, so it keeps no mutable state.
protocol ChunkEncoder: Sendable {
    func encode(_ chunk: ParsedChunk) -> [UInt8]
}

/// Fixed-size one-hot records: optional Norm frame, label and dense values, one key per slot.
struct OneHotRecordEncoder: ChunkEncoder {
    /// Norm with check Sum: a length before and a byte sum after each record.
    let framed: Bool
    /// float32 label and `log(x + 1)` dense values, else the int32 values.
    let floats: Bool
    /// Norm: an int32 nnz of 1 before each key.
    let nnzPrefix: Bool
    let keyBytes: Int

    var payloadBytes: Int {
        4 * (1 + CriteoConverter.denseColumns) + CriteoConverter.categoricalColumns * ((nnzPrefix ? 4 : 0) + keyBytes)
    }

    var recordBytes: Int { payloadBytes + (framed ? 5 : 0) }

    func encode(_ chunk: ParsedChunk) -> [UInt8] {
        let (dense, slots) = (CriteoConverter.denseColumns, CriteoConverter.categoricalColumns)
        let record = recordBytes, payload = payloadBytes
        return [UInt8](unsafeUninitializedCapacity: chunk.count * record) { out, filled in
            let o = UnsafeMutableRawPointer(out.baseAddress!)
            chunk.labels.withUnsafeBufferPointer { labels in
                chunk.dense.withUnsafeBufferPointer { values in
                    chunk.keys.withUnsafeBufferPointer { keys in
                        for i in 0 ..< chunk.count {
                            var p = o + i * record
                            if framed {
                                p.storeBytes(of: Int32(payload).littleEndian, as: Int32.self)
                                p += 4
                            }
                            let start = p
                            if floats {
                                p.storeBytes(of: Float(labels[i]).bitPattern.littleEndian, as: UInt32.self)
                                for d in 0 ..< dense {
                                    p.storeBytes(of: log(Float(values[i * dense + d]) + 1).bitPattern.littleEndian, toByteOffset: 4 + 4 * d, as: UInt32.self)
                                }
                            } else {
                                p.storeBytes(of: labels[i].littleEndian, as: Int32.self)
                                for d in 0 ..< dense { p.storeBytes(of: values[i * dense + d].littleEndian, toByteOffset: 4 + 4 * d, as: Int32.self) }
                            }
                            p += 4 * (1 + dense)
                            for s in 0 ..< slots {
                                if nnzPrefix {
                                    p.storeBytes(of: Int32(1).littleEndian, as: Int32.self)
                                    p += 4
                                }
                                let key = keys[i * slots + s]
                                if keyBytes == 8 {
                                    p.storeBytes(of: key.littleEndian, as: Int64.self)
                                } else {
                                    p.storeBytes(of: UInt32(truncatingIfNeeded: key).littleEndian, as: UInt32.self)
                                }
                                p += keyBytes
                            }
                            if framed {
                                var sum: UInt8 = 0
                                for b in UnsafeRawBufferPointer(start: start, count: payload) { sum &+= b }
                                p.storeBytes(of: sum, as: UInt8.self)
                            }
                        }
                    }
                }
            }
            filled = chunk.count * record
        }
    }
}

/// Splits a split's samples into files of at most `samplesPerFile` (one file when nil).
struct FileRoller {
    let samplesPerFile: Int
    /// Samples in each file started so far.
    private(set) var counts: [Int] = []

    init(_ samplesPerFile: Int?) { self.samplesPerFile = samplesPerFile ?? .max }

    /// Calls `open(k)` before file `k` gets its first sample and `append(range)` with the next of
    /// `samples` new samples that go into the current file.
    mutating func add(_ samples: Int, open: (Int) throws -> Void, append: (Range<Int>) throws -> Void) throws {
        var done = 0
        while done < samples {
            if (counts.last ?? samplesPerFile) == samplesPerFile {
                try open(counts.count)
                counts.append(0)
            }
            let n = min(samples - done, samplesPerFile - counts[counts.count - 1])
            try append(done ..< done + n)
            counts[counts.count - 1] += n
            done += n
        }
    }
}

/// `<directory>/<split>`, created.
private func splitFolder(_ directory: String, _ split: String) throws -> String {
    let folder = (directory as NSString).appendingPathComponent(split)
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw DataError(file: folder, "cannot create the output folder: \(error)", fix: "Check the path and permissions.")
    }
    return folder
}

/// Norm files `<split>/part_<k>.bin` and the file list `<split>_list.txt`.
final class NormConversionSink: ConversionSink {
    let encoder: any ChunkEncoder
    private let record: Int
    private let directory: String
    private let split: String
    private let options: ConvertOptions
    private var writer: NormWriter?
    private var files: FileRoller

    init(directory: String, split: String, options: ConvertOptions) throws {
        let encoder = OneHotRecordEncoder(framed: options.check == .sum, floats: true, nnzPrefix: true, keyBytes: options.i64Keys ? 8 : 4)
        self.encoder = encoder
        record = encoder.recordBytes
        (self.directory, self.split, self.options) = (directory, split, options)
        files = FileRoller(options.samplesPerFile)
        _ = try splitFolder(directory, split)
    }

    func write(_ bytes: [UInt8], samples: Int) throws {
        try files.add(samples, open: { k in
            try writer?.finish()
            writer = try NormWriter(path: (directory as NSString).appendingPathComponent("\(split)/part_\(k).bin"), labelDim: 1,
                                    denseDim: CriteoConverter.denseColumns, slotNum: CriteoConverter.categoricalColumns,
                                    i64Keys: options.i64Keys, check: options.check)
        }, append: { range in
            try bytes.withUnsafeBytes {
                try writer!.appendEncoded(UnsafeRawBufferPointer(rebasing: $0[range.lowerBound * record ..< range.upperBound * record]),
                                          records: range.count)
            }
        })
    }

    func finish() throws -> String {
        try writer?.finish()
        let list = (directory as NSString).appendingPathComponent("\(split)_list.txt")
        try FileList.write(files.counts.indices.map { "\(split)/part_\($0).bin" }, to: list)
        return list
    }
}

/// Parquet files `<split>/part_<k>.parquet` with `_file_list.txt` and `_metadata.json` beside
/// them, as the generator writes them. Keys are per slot (a global key less its slot's start), so
/// a reader given `slot_size_array` gets the Norm conversion's keys back.
final class ParquetConversionSink: ConversionSink {
    /// Float32 label and `log(x + 1)` dense values and int64 global keys, as a Raw record.
    let encoder: any ChunkEncoder = OneHotRecordEncoder(framed: false, floats: true, nnzPrefix: false, keyBytes: 8)
    private let folder: String
    private let options: ConvertOptions
    private let slotStart: [Int]
    private var sink: ParquetSink?
    private var files: FileRoller
    private var label: [Float] = [0]
    private var dense = [Float](repeating: 0, count: CriteoConverter.denseColumns)
    private var keys = [Int64](repeating: 0, count: CriteoConverter.categoricalColumns)
    private let slotNNZ = [Int](repeating: 1, count: CriteoConverter.categoricalColumns)

    init(directory: String, split: String, options: ConvertOptions, slotSizes: [Int]) throws {
        folder = try splitFolder(directory, split)
        self.options = options
        slotStart = slotSizes.indices.map { slotSizes[..<$0].reduce(0, +) }
        files = FileRoller(options.samplesPerFile)
    }

    func write(_ bytes: [UInt8], samples: Int) throws {
        let (denseCount, slots) = (CriteoConverter.denseColumns, CriteoConverter.categoricalColumns)
        let record = 4 * (1 + denseCount) + 8 * slots
        try files.add(samples, open: { k in
            try sink?.finish()
            sink = ParquetSink(try ParquetWriter(path: (folder as NSString).appendingPathComponent("part_\(k).parquet"), denseDim: denseCount,
                                                 multiHot: Array(repeating: false, count: slots), i64Keys: options.i64Keys,
                                                 compression: options.compression, rowGroupSize: options.rowGroupSize),
                               slotStart: slotStart)
        }, append: { range in
            try bytes.withUnsafeBytes { raw in
                for i in range {
                    let p = raw.baseAddress! + i * record
                    label[0] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
                    for d in 0 ..< denseCount {
                        dense[d] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 + 4 * d, as: UInt32.self)))
                    }
                    for s in 0 ..< slots {
                        keys[s] = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 4 * (1 + denseCount) + 8 * s, as: Int64.self))
                    }
                    try sink!.append(labels: label, dense: dense, keys: keys, slotNNZ: slotNNZ)
                }
            }
        })
    }

    func finish() throws -> String {
        try sink?.finish()
        let names = files.counts.indices.map { "part_\($0).parquet" }
        let list = (folder as NSString).appendingPathComponent("_file_list.txt")
        try FileList.write(names, to: list)
        try ParquetDatasetMetadata(fileRows: Dictionary(uniqueKeysWithValues: zip(names, files.counts)),
                                   denseDim: CriteoConverter.denseColumns, slots: CriteoConverter.categoricalColumns).write(folder: folder)
        return list
    }
}

/// One Raw file, `<split>_data.bin`.
final class RawConversionSink: ConversionSink {
    let encoder: any ChunkEncoder
    private let writer: RawWriter

    init(directory: String, split: String, options: ConvertOptions) throws {
        encoder = OneHotRecordEncoder(framed: false, floats: options.floatLabelDense, nnzPrefix: false, keyBytes: options.i64Keys ? 8 : 4)
        writer = try RawWriter(path: (directory as NSString).appendingPathComponent("\(split)_data.bin"), labelDim: 1,
                               denseDim: CriteoConverter.denseColumns, slotNum: CriteoConverter.categoricalColumns,
                               i64Keys: options.i64Keys, floatLabelDense: options.floatLabelDense)
    }

    func write(_ bytes: [UInt8], samples: Int) throws {
        try bytes.withUnsafeBytes { try writer.appendEncoded($0, samples: samples) }
    }

    func finish() throws -> String {
        try writer.finish()
        return writer.path
    }
}
