import Foundation

/// Writes a legacy Raw file (§3.4): headerless fixed-size samples, labels and dense values as
/// float32 (`floatLabelDense`) or int32, then one key per slot (uint32, or int64 with `i64Keys`).
/// The file appears under `path` only when ``finish()`` succeeds (written to `path + ".tmp"`,
/// then renamed). `num_samples` for the reader is ``sampleCount``.
///
/// ```swift
/// let w = try RawWriter(path: "train_data.bin", labelDim: 1, denseDim: 2, slotNum: 2,
///                       i64Keys: false, floatLabelDense: true)
/// try w.append(labels: [1], dense: [0.5, 2], keys: [7, 12])
/// try w.finish()                     // 1 sample of 4·3 + 4·2 = 20 bytes
/// ```
public final class RawWriter {
    public let path: String
    public let sample: RawSampleLayout
    public private(set) var sampleCount = 0

    private let output: StagedFile

    public init(path: String, labelDim: Int, denseDim: Int, slotNum: Int, i64Keys: Bool, floatLabelDense: Bool) throws {
        guard labelDim >= 1, denseDim >= 0, slotNum >= 1 else {
            throw DataError(file: path, "invalid Raw dimensions", expected: "label_dim ≥ 1, dense_dim ≥ 0, slot_num ≥ 1",
                            found: "label_dim \(labelDim), dense_dim \(denseDim), slot_num \(slotNum)")
        }
        self.path = path
        sample = RawSampleLayout(labelDim: labelDim, denseDim: denseDim, slotNum: slotNum, i64Keys: i64Keys,
                                 floatLabelDense: floatLabelDense)
        output = try StagedFile(path: path)
    }

    /// Appends one sample with float32 labels and dense values (`floatLabelDense` true).
    public func append(labels: [Float], dense: [Float], keys: [Int64]) throws {
        guard sample.floatLabelDense else {
            throw DataError(file: path, "this Raw file stores int32 labels and dense values (floatLabelDense false)",
                            fix: "Pass Int32 labels and dense values, or create the writer with floatLabelDense: true.")
        }
        try check(labels.count, dense.count, keys)
        let p = try output.reserve(sample.stride)
        for (i, v) in labels.enumerated() { p.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        for (i, v) in dense.enumerated() { p.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * (sample.labelDim + i), as: UInt32.self) }
        putKeys(keys, at: p)
    }

    /// Appends one sample with int32 labels and dense values (`floatLabelDense` false; the reader
    /// takes `log(x + 1)` of each dense value).
    public func append(labels: [Int32], dense: [Int32], keys: [Int64]) throws {
        guard !sample.floatLabelDense else {
            throw DataError(file: path, "this Raw file stores float32 labels and dense values (floatLabelDense true)",
                            fix: "Pass Float labels and dense values, or create the writer with floatLabelDense: false.")
        }
        try check(labels.count, dense.count, keys)
        let p = try output.reserve(sample.stride)
        for (i, v) in labels.enumerated() { p.storeBytes(of: v.littleEndian, toByteOffset: 4 * i, as: Int32.self) }
        for (i, v) in dense.enumerated() { p.storeBytes(of: v.littleEndian, toByteOffset: 4 * (sample.labelDim + i), as: Int32.self) }
        putKeys(keys, at: p)
    }

    /// Appends `samples` already encoded samples (`samples × stride` bytes).
    func appendEncoded(_ bytes: UnsafeRawBufferPointer, samples: Int) throws {
        precondition(bytes.count == samples * sample.stride, "encoded Raw samples must be whole")
        try output.write(bytes)
        sampleCount += samples
    }

    /// Flushes and moves the file into place.
    public func finish() throws { try output.commit() }

    private func check(_ labels: Int, _ dense: Int, _ keys: [Int64]) throws {
        guard labels == sample.labelDim, dense == sample.denseDim, keys.count == sample.slotNum else {
            throw DataError(file: path, "sample \(sampleCount): wrong number of values",
                            expected: "\(sample.labelDim) labels, \(sample.denseDim) dense values, \(sample.slotNum) keys (one per slot)",
                            found: "\(labels), \(dense), \(keys.count)", fix: "Pass exactly the counts given to RawWriter.init.")
        }
        if sample.keyBytes == 4, let bad = keys.first(where: { $0 < 0 || $0 > Int64(UInt32.max) }) {
            throw DataError(file: path, "sample \(sampleCount): key \(bad) does not fit in uint32",
                            fix: "Write the file with i64Keys: true (i64_input_key=True).")
        }
    }

    private func putKeys(_ keys: [Int64], at p: UnsafeMutableRawPointer) {
        let start = 4 * (sample.labelDim + sample.denseDim)
        for (s, key) in keys.enumerated() {
            if sample.keyBytes == 8 {
                p.storeBytes(of: key.littleEndian, toByteOffset: start + 8 * s, as: Int64.self)
            } else {
                p.storeBytes(of: UInt32(truncatingIfNeeded: key).littleEndian, toByteOffset: start + 4 * s, as: UInt32.self)
            }
        }
        sampleCount += 1
    }
}

/// A file written through a large buffer to `path + ".tmp"` and renamed to `path` by
/// ``commit()``; removed if never committed.
final class StagedFile {
    let path: String
    let tmpPath: String
    private let handle: FileHandle
    private let buffer: UnsafeMutableRawPointer
    private let capacity = 1 << 22
    private var used = 0
    private var committed = false

    init(path: String) throws {
        self.path = path
        tmpPath = path + ".tmp"
        handle = try Self.create(tmpPath)
        buffer = .allocate(byteCount: capacity, alignment: 16)
    }

    /// An empty file at `path`, open for writing.
    static func create(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw DataError(file: path, "cannot create the data file", fix: "Check that the folder exists and is writable.")
        }
        return handle
    }

    deinit {
        if !committed {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: tmpPath)
        }
        buffer.deallocate()
    }

    /// Room for `bytes` more bytes (at most the buffer size), counted as written.
    func reserve(_ bytes: Int) throws -> UnsafeMutableRawPointer {
        if used + bytes > capacity { try flush() }
        precondition(bytes <= capacity, "one staged record must fit the buffer")
        defer { used += bytes }
        return buffer + used
    }

    /// Appends `bytes`; large runs go to the file directly.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if used + bytes.count <= capacity {
            if let base = bytes.baseAddress { (buffer + used).copyMemory(from: base, byteCount: bytes.count) }
            used += bytes.count
            return
        }
        try flush()
        try put(bytes)
    }

    /// Writes everything, then moves the file into place.
    func commit() throws {
        guard !committed else { return }
        try flush()
        try closeAndMoveIntoPlace(handle, from: tmpPath, to: path)
        committed = true
    }

    private func flush() throws {
        guard used > 0 else { return }
        try put(UnsafeRawBufferPointer(start: buffer, count: used))
        used = 0
    }

    private func put(_ bytes: UnsafeRawBufferPointer) throws {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw DataError(file: tmpPath, "write failed: \(error)", fix: "Check free disk space.")
        }
    }
}
