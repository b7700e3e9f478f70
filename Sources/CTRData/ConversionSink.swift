import Foundation

/// Where ``CriteoConverter`` puts one split: a format's files. ``encoder`` turns parsed chunks
/// into the format's bytes on the worker threads; ``write(_:samples:)`` then gets them in input
/// order. A new format (Parquet, say) adds one sink and one encoder.
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

/// Norm files `<split>/part_<k>.bin` and the file list `<split>_list.txt`.
final class NormConversionSink: ConversionSink {
    let encoder: any ChunkEncoder
    private let record: Int
    private let directory: String
    private let split: String
    private let options: ConvertOptions
    private var writer: NormWriter?
    private var files: [String] = []

    init(directory: String, split: String, options: ConvertOptions) throws {
        let encoder = OneHotRecordEncoder(framed: options.check == .sum, floats: true, nnzPrefix: true, keyBytes: options.i64Keys ? 8 : 4)
        self.encoder = encoder
        record = encoder.recordBytes
        (self.directory, self.split, self.options) = (directory, split, options)
        let folder = (directory as NSString).appendingPathComponent(split)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: folder, "cannot create the output folder: \(error)", fix: "Check the path and permissions.")
        }
    }

    func write(_ bytes: [UInt8], samples: Int) throws {
        var done = 0
        while done < samples {
            if writer == nil || writer!.recordCount == (options.samplesPerFile ?? .max) {
                try writer?.finish()
                let name = "\(split)/part_\(files.count).bin"
                files.append(name)
                writer = try NormWriter(path: (directory as NSString).appendingPathComponent(name), labelDim: 1,
                                        denseDim: CriteoConverter.denseColumns, slotNum: CriteoConverter.categoricalColumns,
                                        i64Keys: options.i64Keys, check: options.check)
            }
            let n = min(samples - done, (options.samplesPerFile ?? .max) - writer!.recordCount)
            try bytes.withUnsafeBytes { try writer!.appendEncoded(UnsafeRawBufferPointer(rebasing: $0[done * record ..< (done + n) * record]), records: n) }
            done += n
        }
    }

    func finish() throws -> String {
        try writer?.finish()
        let list = (directory as NSString).appendingPathComponent("\(split)_list.txt")
        try FileList.write(files, to: list)
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
