import CTRCore
import Foundation

/// The 64-byte `DataSetHeader` at the start of every Norm file.
///
/// ```swift
/// let h = try NormFile(path: "part_0.bin", layout: layout, i64Keys: true, check: .sum).header
/// h.numberOfRecords
/// ```
public struct NormHeader: Equatable, Sendable {
    public var errorCheck: Int64
    public var numberOfRecords: Int64
    public var labelDim: Int64
    public var denseDim: Int64
    public var slotNum: Int64

    public init(errorCheck: Int64, numberOfRecords: Int64, labelDim: Int64, denseDim: Int64, slotNum: Int64) {
        self.errorCheck = errorCheck
        self.numberOfRecords = numberOfRecords
        self.labelDim = labelDim
        self.denseDim = denseDim
        self.slotNum = slotNum
    }
}

/// Parses one Norm data file (§3.3) sequentially from a memory map, validating every record
/// against the layout. A checksum mismatch is an error (HugeCTR silently drops the sample;
/// throwing surfaces corruption instead of training on a quietly shrunken dataset).
///
/// ```swift
/// let f = try NormFile(path: "part_0.bin", layout: layout, i64Keys: true, check: .sum)
/// while let batch = try f.readBatch(maxCount: 4096) { use(batch) }
/// ```
public final class NormFile {
    public let path: String
    public private(set) var header = NormHeader(errorCheck: 0, numberOfRecords: 0, labelDim: 0, denseDim: 0, slotNum: 0)
    public private(set) var recordsRead = 0

    private let layout: DataLayout
    private let i64Keys: Bool
    private let framed: Bool
    private let maxPayload: Int
    private let minPayload: Int
    /// The file's bytes, mapped read-only; `bytes` is its start (nil for an empty file).
    private let file: MappedFile
    private let bytes: UnsafeRawPointer?
    private let size: Int
    /// The next unread byte.
    private var pos = 0

    /// Opens `path` and validates its header against the layout, key width and check type.
    public init(path: String, layout: DataLayout, i64Keys: Bool, check: CheckType) throws {
        try layout.validate()
        guard FileManager.default.isReadableFile(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw DataError(file: path, exists ? "the data file cannot be opened" : "the data file does not exist",
                            fix: exists ? "Check the file's permissions." : "Fix the file list or regenerate the dataset.")
        }
        self.path = path
        self.layout = layout
        self.i64Keys = i64Keys
        self.framed = check == .sum
        file = try MappedFile(path: path)
        bytes = file.bytes.baseAddress
        size = file.bytes.count
        let keyBytes = i64Keys ? 8 : 4
        let fixed = 4 * (layout.labelDim + layout.denseDim + layout.totalSlots)
        minPayload = fixed
        maxPayload = fixed + keyBytes * layout.sparse.reduce(0) { $0 + $1.maxNNZPerSample }
        header = try readHeader(check: check)
        if header.numberOfRecords == 0 { try finishFile() }
    }

    /// Records not yet read.
    public var remainingRecords: Int { Int(header.numberOfRecords) - recordsRead }

    /// The next `maxCount` samples (fewer at the end of the file, at least one), or nil once every
    /// record was read.
    public func readBatch(maxCount: Int) throws -> Batch? {
        guard remainingRecords > 0 else { return nil }
        let acc = BatchAccumulator(layout: layout, capacity: min(maxCount, remainingRecords))
        _ = try read(into: acc, upTo: max(1, maxCount))
        return acc.take()
    }

    /// Passes over the next `count` records (parsed and checked as when read, then dropped).
    func skip(_ count: Int) throws {
        let chunk = min(count, 1024), scratch = BatchAccumulator(layout: layout, capacity: chunk)
        var left = count
        while left > 0 {
            let n = try read(into: scratch, upTo: min(left, chunk))
            guard n > 0 else { break }
            left -= n
            scratch.clear()
        }
    }

    /// Appends up to `limit` samples to `acc`; returns how many were appended.
    func read(into acc: BatchAccumulator, upTo limit: Int) throws -> Int {
        let n = min(limit, remainingRecords)
        var done = 0
        while done < n {
            let chunk = min(n - done, BatchAccumulator.chunk)
            try acc.append(samples: chunk) { out in
                for _ in 0 ..< chunk {
                    try readSample(into: &out)
                    recordsRead += 1
                }
            }
            done += chunk
        }
        if n > 0 && remainingRecords == 0 { try finishFile() }
        return n
    }

    // MARK: header

    private func readHeader(check: CheckType) throws -> NormHeader {
        var rel = 0
        if framed {
            guard available(4) else { throw tooShortForHeader() }
            let length = Int(load(Int32.self, 0))
            guard length == 64 else {
                throw DataError(file: path, offset: 0, "the header frame length is wrong for check type Sum",
                                expected: "64", found: "\(length)",
                                fix: length == 0 ? "The file looks like it was written without checksums; use check type None (Check_t.Non)."
                                    : "Regenerate the file, or use the check type it was written with.")
            }
            rel = 4
        }
        guard available(rel + 64 + (framed ? 1 : 0)) else { throw tooShortForHeader() }
        let h = NormHeader(errorCheck: load(Int64.self, rel), numberOfRecords: load(Int64.self, rel + 8),
                           labelDim: load(Int64.self, rel + 16), denseDim: load(Int64.self, rel + 24),
                           slotNum: load(Int64.self, rel + 32))
        if framed {
            try verifyChecksum(payloadAt: rel, length: 64, record: nil)
        }
        guard h.errorCheck == check.headerValue else {
            let fileCheck = h.errorCheck == 1 ? "Sum" : h.errorCheck == 0 ? "None" : "unknown"
            throw DataError(file: path, offset: rel, "header error_check does not match the reader's check type",
                            expected: "\(check.headerValue) (\(check.rawValue))", found: "\(h.errorCheck) (\(fileCheck))",
                            fix: h.errorCheck & 0xFFFF_FFFF == 64
                                ? "The file starts with a frame length of 64, so it was written with checksums; use check type Sum."
                                : "Set check_type to the one the file was written with, or regenerate the file.")
        }
        guard h.numberOfRecords >= 0 else {
            throw DataError(file: path, offset: rel + 8, "header number_of_records is negative", found: "\(h.numberOfRecords)",
                            fix: "The file is corrupt; regenerate it.")
        }
        guard h.slotNum == Int64(layout.totalSlots) else {
            throw DataError(file: path, offset: rel + 32, "header slot_num does not match the Input's total slot count",
                            expected: "\(layout.totalSlots) (Σ slot_num of the sparse inputs)", found: "\(h.slotNum)",
                            fix: "Make the DataReaderSparseParam slot_num values add up to the file's slot_num.")
        }
        guard h.labelDim == Int64(layout.labelDim), h.denseDim == Int64(layout.denseDim) else {
            throw DataError(file: path, offset: rel + 16, "header label_dim/dense_dim do not match the Input",
                            expected: "label_dim \(layout.labelDim), dense_dim \(layout.denseDim)",
                            found: "label_dim \(h.labelDim), dense_dim \(h.denseDim)",
                            fix: "Set the Input's label_dim and dense_dim to the file's values.")
        }
        pos = rel + 64 + (framed ? 1 : 0)
        return h
    }

    private func tooShortForHeader() -> DataError {
        DataError(file: path, offset: size, "the file is too short to hold a Norm header",
                  expected: "\(framed ? 69 : 64) header bytes", found: "\(size) bytes",
                  fix: "The file is truncated or not a Norm file; regenerate it.")
    }

    // MARK: samples

    /// Parses the record at `pos` into `out`. The map holds the whole file, so parsing needs only
    /// bounds checks against the file's (or the frame's) end.
    private func readSample(into out: inout SampleWriter) throws {
        guard let bytes else { throw truncated(rel: 0) }
        let p = bytes + pos
        var rel = 0
        var limit = size - pos
        if framed {
            guard limit >= 4 else { throw truncated(rel: 0) }
            let length = Int(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
            guard length >= minPayload, length <= maxPayload else {
                throw DataError(file: path, offset: pos, "record \(recordsRead): frame length L is outside what the layout allows",
                                expected: "\(minPayload)...\(maxPayload) bytes (at most Σ nnz_per_slot keys of \(i64Keys ? 8 : 4) bytes per sparse input)",
                                found: "\(length)",
                                fix: "Check i64_input_key, nnz_per_slot and check_type against how the file was written.")
            }
            guard limit >= 4 + length + 1 else { throw truncated(rel: 4) }
            try verifyChecksum(payloadAt: 4, length: length, record: recordsRead)
            rel = 4
            limit = 4 + length
        }
        let (labelDim, denseDim) = (out.labelDim, out.denseDim)
        guard rel + 4 * (labelDim + denseDim) <= limit else { throw overrun(rel, 4 * (labelDim + denseDim), limit) }
        for i in 0 ..< labelDim { out.labels[i] = p.loadUnaligned(fromByteOffset: rel + 4 * i, as: Float.self) }
        rel += 4 * labelDim
        for i in 0 ..< denseDim { out.dense[i] = p.loadUnaligned(fromByteOffset: rel + 4 * i, as: Float.self) }
        rel += 4 * denseDim
        out.labels += labelDim
        out.dense += denseDim
        let keyBytes = i64Keys ? 8 : 4
        for k in 0 ..< out.sparse.count {
            var c = out.sparse[k]
            // The common case first, one key in every slot: all nnz checked and all keys copied
            // without a branch per slot; any other record takes the general loop below.
            let step = 4 &+ keyBytes
            if c.maxKeys >= c.slots && rel &+ c.slots &* step <= limit {
                let q = p + rel, keys = c.keys + c.keyCount, offsets = c.offsets + c.offsetCount
                var notOne: Int32 = 0
                for s in 0 ..< c.slots {
                    let at = s &* step
                    notOne |= q.loadUnaligned(fromByteOffset: at, as: Int32.self) ^ 1
                    keys[s] = i64Keys ? Int64(littleEndian: q.loadUnaligned(fromByteOffset: at &+ 4, as: Int64.self))
                        : Int64(UInt32(littleEndian: q.loadUnaligned(fromByteOffset: at &+ 4, as: UInt32.self)))
                    offsets[s] = Int64(c.keyCount &+ s &+ 1)
                }
                if notOne == 0 {
                    c.keyCount &+= c.slots
                    c.offsetCount &+= c.slots
                    rel &+= c.slots &* step
                    out.sparse[k] = c
                    continue
                }
            }
            var total = 0
            var irregular = false
            for _ in 0 ..< c.slots {
                guard rel + 4 <= limit else { throw overrun(rel, 4, limit) }
                let nnz = Int(Int32(littleEndian: p.loadUnaligned(fromByteOffset: rel, as: Int32.self)))
                guard nnz >= 0 else {
                    throw DataError(file: path, offset: pos + rel, "record \(recordsRead): negative nnz",
                                    found: "\(nnz)", fix: "Check that i64_input_key matches the key width the file was written with.")
                }
                total += nnz
                irregular = irregular || nnz != 1
                guard total <= c.maxKeys else { throw tooManyKeys(k, total: total, rel: rel) }
                rel += 4
                guard rel + nnz * keyBytes <= limit else { throw overrun(rel, nnz * keyBytes, limit) }
                let keys = c.keys + c.keyCount
                if i64Keys {
                    for j in 0 ..< nnz { keys[j] = Int64(littleEndian: p.loadUnaligned(fromByteOffset: rel + 8 * j, as: Int64.self)) }
                } else {
                    for j in 0 ..< nnz { keys[j] = Int64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: rel + 4 * j, as: UInt32.self))) }
                }
                rel += nnz * keyBytes
                c.keyCount += nnz
                c.offsets[c.offsetCount] = Int64(c.keyCount)
                c.offsetCount += 1
            }
            c.multiHot = c.multiHot || irregular
            out.sparse[k] = c
        }
        if framed {
            guard rel == limit else {
                throw DataError(file: path, offset: pos, "record \(recordsRead): frame length L disagrees with the record's contents",
                                expected: "L = \(rel - 4) from the nnz values", found: "L = \(limit - 4)",
                                fix: "Check i64_input_key and the slot layout against how the file was written, or regenerate the file.")
            }
            rel += 1
        }
        pos += rel
        out.samples += 1
    }

    private func tooManyKeys(_ k: Int, total: Int, rel: Int) -> DataError {
        let input = layout.sparse[k]
        return DataError(file: path, offset: pos + rel, "record \(recordsRead): sparse input '\(input.name)' has too many keys",
                         expected: "at most \(input.maxNNZPerSample) (Σ nnz_per_slot)", found: "at least \(total)",
                         fix: "Raise nnz_per_slot, or check i64_input_key against the file's key width.")
    }

    /// The error for a record that needs `count` bytes at `rel` but has only `limit`.
    private func overrun(_ rel: Int, _ count: Int, _ limit: Int) -> DataError {
        guard framed else { return truncated(rel: rel) }
        return DataError(file: path, offset: pos, "record \(recordsRead): contents run past the frame length L",
                         expected: "L ≥ \(rel + count - 4)", found: "L = \(limit - 4)",
                         fix: "Check i64_input_key and the slot layout against how the file was written.")
    }

    /// Throws unless the byte after the `length` payload bytes at `pos + rel` is their sum mod 256.
    @inline(__always)
    private func verifyChecksum(payloadAt rel: Int, length: Int, record: Int?) throws {
        let payload = bytes! + pos + rel
        let stored = payload.load(fromByteOffset: length, as: UInt8.self)
        guard Self.byteSum(payload, length) == stored else { throw checksumMismatch(payloadAt: rel, length: length, record: record) }
    }

    /// The sum mod 256 of `count` bytes.
    static func byteSum(_ p: UnsafeRawPointer, _ count: Int) -> UInt8 {
        let b = p.assumingMemoryBound(to: UInt8.self)
        var sum: UInt8 = 0
        for i in 0 ..< count { sum &+= b[i] }
        return sum
    }

    private func checksumMismatch(payloadAt rel: Int, length: Int, record: Int?) -> DataError {
        let payload = bytes! + pos + rel
        let sum = Self.byteSum(payload, length), stored = payload.load(fromByteOffset: length, as: UInt8.self)
        return DataError(file: path, offset: pos + rel + length, "checksum mismatch in \(record.map { "record \($0)" } ?? "the header")",
                         expected: "0x" + String(sum, radix: 16), found: "0x" + String(stored, radix: 16),
                         fix: "The file is corrupt; regenerate or re-copy it. (HugeCTR would silently skip the sample.)")
    }

    private func truncated(rel: Int) -> DataError {
        let left = size - pos
        if left == 0 {
            return DataError(file: path, offset: pos, "the file ends after \(recordsRead) records",
                             expected: "\(header.numberOfRecords) records (header number_of_records)", found: "\(recordsRead)",
                             fix: "The file is truncated (or its header is wrong); regenerate it.")
        }
        return DataError(file: path, offset: size, "the file is cut in the middle of record \(recordsRead)",
                         expected: "more bytes", found: "end of file \(left) bytes into the record",
                         fix: "The file is truncated; regenerate it. Also check i64_input_key and check_type.")
    }

    private func finishFile() throws {
        guard pos == size else {
            throw DataError(file: path, offset: pos, "unexpected data after the last record",
                            expected: "end of file after \(header.numberOfRecords) records (header number_of_records)",
                            found: "more bytes", fix: "The header's record count is wrong or the key width differs; regenerate the file.")
        }
    }

    // MARK: bytes

    /// Whether `count` bytes from `pos` are in the file.
    private func available(_ count: Int) -> Bool { size - pos >= count }

    @inline(__always)
    private func load<T: FixedWidthInteger>(_ type: T.Type, _ rel: Int) -> T {
        T(littleEndian: bytes!.loadUnaligned(fromByteOffset: pos + rel, as: T.self))
    }
}

/// Collects samples of one `Batch` in reusable buffers, so parsing allocates nothing per sample.
final class BatchAccumulator {
    let layout: DataLayout
    var count = 0
    let labels: Column<Float>
    let dense: Column<Float>
    let rowOffsets: [Column<Int64>]
    let keys: [Column<Int64>]
    /// Per sparse input: some row of this batch has other than one key (parsers set it), else
    /// the batch is one-hot and takes the shared identity offsets.
    var multiHot: [Bool]

    /// Buffers for `capacity` samples from `pool` (plain memory when nil).
    init(layout: DataLayout, capacity: Int, pool: (any HostBufferPool)? = nil) {
        self.layout = layout
        labels = Column(capacity: capacity * layout.labelDim, pool: pool)
        dense = Column(capacity: capacity * layout.denseDim, pool: pool)
        rowOffsets = layout.sparse.map { Column(capacity: capacity * $0.slotNum + 1, pool: pool) }
        keys = layout.sparse.map { Column(capacity: capacity * $0.slotNum, pool: pool) }
        multiHot = Array(repeating: false, count: layout.sparse.count)
        cursors = .allocate(capacity: layout.sparse.count)
        for offsets in rowOffsets { offsets.appendUnchecked(0) }
    }

    deinit { cursors.deallocate() }

    /// Samples a parser writes between two reservations.
    static let chunk = 256

    private let cursors: UnsafeMutableBufferPointer<SparseCursor>

    /// Reserves room for `samples` samples, lets `body` write them through raw pointers (no
    /// reference counting or bounds growth per value), then counts what it wrote, also when it throws.
    func append(samples: Int, _ body: (inout SampleWriter) throws -> Void) rethrows {
        labels.reserve(samples * layout.labelDim)
        dense.reserve(samples * layout.denseDim)
        for (k, input) in layout.sparse.enumerated() {
            keys[k].reserve(samples * input.maxNNZPerSample)
            rowOffsets[k].reserve(samples * input.slotNum)
            cursors[k] = SparseCursor(keys: keys[k].base, keyCount: keys[k].count, offsets: rowOffsets[k].base,
                                      offsetCount: rowOffsets[k].count, slots: input.slotNum, maxKeys: input.maxNNZPerSample,
                                      multiHot: multiHot[k])
        }
        var writer = SampleWriter(labels: labels.base + labels.count, dense: dense.base + dense.count, sparse: cursors,
                                  labelDim: layout.labelDim, denseDim: layout.denseDim)
        defer {
            labels.appendedUnchecked(writer.samples * layout.labelDim)
            dense.appendedUnchecked(writer.samples * layout.denseDim)
            for k in layout.sparse.indices {
                keys[k].appendedUnchecked(cursors[k].keyCount - keys[k].count)
                rowOffsets[k].appendedUnchecked(cursors[k].offsetCount - rowOffsets[k].count)
                multiHot[k] = cursors[k].multiHot
            }
            count += writer.samples
        }
        try body(&writer)
    }

    /// Drops the samples collected so far, keeping the buffers.
    func clear() {
        labels.removeAll()
        dense.removeAll()
        for k in keys.indices {
            keys[k].removeAll()
            rowOffsets[k].removeAll()
            rowOffsets[k].appendUnchecked(0)
        }
        multiHot = multiHot.map { _ in false }
        count = 0
    }

    /// Returns the collected batch (its buffers handed over) and starts an empty one.
    func take() -> Batch {
        let sparse = keys.indices.map { k in
            guard multiHot[k] else {
                rowOffsets[k].removeAll()
                return SparseBatch(oneHotKeys: keys[k].drain())
            }
            return SparseBatch(checkedOffsets: rowOffsets[k].drain(), keys: keys[k].drain())
        }
        let batch = Batch(count: count, labels: labels.drain(), dense: dense.drain(), sparse: sparse)
        for offsets in rowOffsets { offsets.appendUnchecked(0) }
        multiHot = multiHot.map { _ in false }
        count = 0
        return batch
    }
}

/// Where a parser writes the next sample of a batch: the ends of the label and dense columns and
/// one cursor per sparse input, with room for ``BatchAccumulator/chunk`` samples reserved. A parser
/// advances `labels` and `dense`, the cursors' counts, and `samples` once a sample is complete.
struct SampleWriter {
    var labels: UnsafeMutablePointer<Float>
    var dense: UnsafeMutablePointer<Float>
    let sparse: UnsafeMutableBufferPointer<SparseCursor>
    let labelDim: Int
    let denseDim: Int
    var samples = 0
}

/// One sparse input's key and row-offset columns as raw pointers and counts.
struct SparseCursor {
    let keys: UnsafeMutablePointer<Int64>
    var keyCount: Int
    let offsets: UnsafeMutablePointer<Int64>
    var offsetCount: Int
    let slots: Int
    /// Keys a sample may hold (Σ nnz_per_slot).
    let maxKeys: Int
    /// Some row so far has other than one key.
    var multiHot: Bool
}

/// A growable buffer of plain values, appended to through raw pointers, in memory from `pool`
/// (pinned memory on a GPU backend) so that ``drain()`` hands it to a batch without a copy.
final class Column<T: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<T>
    private var buffer: HostBuffer
    private(set) var count = 0
    private var capacity: Int
    private let pool: (any HostBufferPool)?

    init(capacity: Int, pool: (any HostBufferPool)? = nil) {
        self.capacity = max(capacity, 16)
        self.pool = pool
        buffer = HostBuffer(byteCount: self.capacity * MemoryLayout<T>.stride, pool: pool)
        base = buffer.pointer.assumingMemoryBound(to: T.self)
    }

    /// Makes room for `extra` more values.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        capacity = max(needed, 2 * capacity)
        let bigger = HostBuffer(byteCount: capacity * MemoryLayout<T>.stride, pool: pool)
        bigger.pointer.copyMemory(from: base, byteCount: count * MemoryLayout<T>.stride)
        buffer = bigger
        base = buffer.pointer.assumingMemoryBound(to: T.self)
    }

    @inline(__always)
    func appendUnchecked(_ value: T) {
        base[count] = value
        count += 1
    }

    /// Appends `n` values from `source`. Norm files are little-endian, like every host Swift runs on.
    /// A plain loop, not memcpy: runs are a handful of values, too short to amortize a call.
    @inline(__always)
    func append(from source: UnsafeRawPointer, count n: Int) {
        reserve(n)
        for i in 0 ..< n {
            base[count + i] = source.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self)
        }
        count += n
    }

    /// Counts `n` values written directly past the end (after ``reserve(_:)``).
    @inline(__always)
    func appendedUnchecked(_ n: Int) { count += n }

    /// Empties the buffer, keeping its memory.
    func removeAll() { count = 0 }

    /// The values so far, handed over with their buffer (no copy); the column continues empty in
    /// a fresh buffer of the same capacity.
    func drain() -> HostArray<T> {
        let values = HostArray<T>(buffer: buffer, count: count)
        buffer = HostBuffer(byteCount: capacity * MemoryLayout<T>.stride, pool: pool)
        base = buffer.pointer.assumingMemoryBound(to: T.self)
        count = 0
        return values
    }
}
