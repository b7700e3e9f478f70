import Foundation

/// Writes one Norm data file (§3.3), byte-exact, with buffered output. The file appears under
/// `path` only when ``finish()`` succeeds (it is written to `path + ".tmp"` and renamed), so a
/// crash never leaves a half-written file with a plausible header.
///
/// ```swift
/// let w = try NormWriter(path: "part_0.bin", labelDim: 1, denseDim: 2, slotNum: 2,
///                        i64Keys: false, check: .sum)
/// try w.append(labels: [1], dense: [0.5, 2], slots: [[7], [12, 13]])
/// try w.finish()
/// ```
public final class NormWriter {
    public let path: String
    public let labelDim: Int
    public let denseDim: Int
    public let slotNum: Int
    public let i64Keys: Bool
    public let check: CheckType
    public private(set) var recordCount = 0

    private let tmpPath: String
    private let handle: FileHandle
    private var buffer: UnsafeMutableRawPointer
    private var capacity = 1 << 22
    private var used = 0
    private var finished = false

    public init(path: String, labelDim: Int, denseDim: Int, slotNum: Int, i64Keys: Bool, check: CheckType) throws {
        guard labelDim >= 1, denseDim >= 0, slotNum >= 1 else {
            throw DataError(file: path, "invalid Norm dimensions",
                            expected: "label_dim ≥ 1, dense_dim ≥ 0, slot_num ≥ 1",
                            found: "label_dim \(labelDim), dense_dim \(denseDim), slot_num \(slotNum)")
        }
        self.path = path
        self.labelDim = labelDim
        self.denseDim = denseDim
        self.slotNum = slotNum
        self.i64Keys = i64Keys
        self.check = check
        self.tmpPath = path + ".tmp"
        handle = try StagedFile.create(tmpPath)
        buffer = .allocate(byteCount: capacity, alignment: 16)
        // Placeholder; finish() rewrites it with the final number_of_records.
        putHeader()
    }

    deinit {
        if !finished {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: tmpPath)
        }
        buffer.deallocate()
    }

    /// Appends one sample; `slots[s]` holds the keys of slot `s` (any number, including none).
    public func append(labels: [Float], dense: [Float], slots: [[Int64]]) throws {
        guard slots.count == slotNum else {
            throw countError("slots", expected: slotNum, found: slots.count)
        }
        var keyCount = 0
        for (s, keys) in slots.enumerated() {
            try validate(keys[...], slot: s)
            keyCount += keys.count
        }
        try beginSample(labels: labels, dense: dense, keyCount: keyCount)
        for keys in slots { putSlot(keys[...]) }
        endSample()
    }

    /// Appends one sample given all its keys flat: slot `s` holds the next `slotNNZ[s]` keys.
    /// Lets a caller reuse two arrays for every sample instead of building `[[Int64]]`.
    public func append(labels: [Float], dense: [Float], keys: [Int64], slotNNZ: [Int]) throws {
        guard slotNNZ.count == slotNum else {
            throw countError("slot nnz values", expected: slotNum, found: slotNNZ.count)
        }
        guard slotNNZ.allSatisfy({ $0 >= 0 }), slotNNZ.reduce(0, +) == keys.count else {
            throw DataError(file: path, "record \(recordCount): slotNNZ must be non-negative and sum to keys.count",
                            expected: "\(keys.count)", found: "\(slotNNZ)")
        }
        var start = 0
        for (s, n) in slotNNZ.enumerated() {
            try validate(keys[start ..< start + n], slot: s)
            start += n
        }
        try beginSample(labels: labels, dense: dense, keyCount: keys.count)
        start = 0
        for n in slotNNZ {
            putSlot(keys[start ..< start + n])
            start += n
        }
        endSample()
    }

    /// Appends `records` already encoded records (with their frames under check Sum).
    func appendEncoded(_ bytes: UnsafeRawBufferPointer, records: Int) throws {
        try flush()
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw DataError(file: tmpPath, "write failed: \(error)", fix: "Check free disk space.")
        }
        recordCount += records
    }

    /// Flushes, writes the header's final `number_of_records` and moves the file into place.
    public func finish() throws {
        guard !finished else { return }
        try flush()
        used = 0
        putHeader()
        do {
            try handle.seek(toOffset: 0)
            try handle.write(contentsOf: UnsafeRawBufferPointer(start: buffer, count: used))
            try handle.close()
        } catch {
            throw DataError(file: tmpPath, "cannot write the header: \(error)", fix: "Check free disk space.")
        }
        used = 0
        try moveIntoPlace(from: tmpPath, to: path)
        finished = true
    }

    // MARK: encoding

    private var keyBytes: Int { i64Keys ? 8 : 4 }
    private var sampleStart = 0

    private func countError(_ what: String, expected: Int, found: Int) -> DataError {
        DataError(file: path, "record \(recordCount): wrong number of \(what)", expected: "\(expected)", found: "\(found)",
                  fix: "Pass exactly the counts given to NormWriter.init.")
    }

    private func validate(_ keys: ArraySlice<Int64>, slot: Int) throws {
        guard !i64Keys else { return }
        if let bad = keys.first(where: { $0 < 0 || $0 > Int64(UInt32.max) }) {
            throw DataError(file: path, "record \(recordCount), slot \(slot): key \(bad) does not fit in uint32",
                            fix: "Write the dataset with i64Keys: true (i64_input_key=True).")
        }
    }

    private func beginSample(labels: [Float], dense: [Float], keyCount: Int) throws {
        guard labels.count == labelDim else { throw countError("labels", expected: labelDim, found: labels.count) }
        guard dense.count == denseDim else { throw countError("dense values", expected: denseDim, found: dense.count) }
        let payload = 4 * (labelDim + denseDim + slotNum) + keyCount * keyBytes
        guard payload <= Int(Int32.max) - 16 else {
            throw DataError(file: path, "record \(recordCount) has \(keyCount) keys, too many for one Norm record",
                            fix: "Split the sample's keys over fewer, smaller slots.")
        }
        try reserve(payload + 5)
        if check == .sum { put(Int32(payload)) }
        sampleStart = used
        for v in labels { put(v.bitPattern) }
        for v in dense { put(v.bitPattern) }
    }

    private func putSlot(_ keys: ArraySlice<Int64>) {
        put(Int32(keys.count))
        if i64Keys {
            for k in keys { put(k) }
        } else {
            for k in keys { put(UInt32(truncatingIfNeeded: k)) }
        }
    }

    private func endSample() {
        if check == .sum { put(checksum(from: sampleStart)) }
        recordCount += 1
    }

    private func putHeader() {
        if check == .sum { put(Int32(64)) }
        let start = used
        for field in [check.headerValue, Int64(recordCount), Int64(labelDim), Int64(denseDim), Int64(slotNum), 0, 0, 0] {
            put(field)
        }
        if check == .sum { put(checksum(from: start)) }
    }

    private func checksum(from start: Int) -> UInt8 {
        var sum: UInt8 = 0
        for i in start ..< used { sum &+= buffer.load(fromByteOffset: i, as: UInt8.self) }
        return sum
    }

    private func put<T: FixedWidthInteger>(_ value: T) {
        buffer.storeBytes(of: value.littleEndian, toByteOffset: used, as: T.self)
        used += MemoryLayout<T>.size
    }

    private func reserve(_ bytes: Int) throws {
        if used + bytes <= capacity { return }
        try flush()
        if bytes > capacity {
            buffer.deallocate()
            capacity = bytes
            buffer = .allocate(byteCount: capacity, alignment: 16)
        }
    }

    private func flush() throws {
        guard used > 0 else { return }
        do {
            try handle.write(contentsOf: UnsafeRawBufferPointer(start: buffer, count: used))
        } catch {
            throw DataError(file: tmpPath, "write failed: \(error)", fix: "Check free disk space.")
        }
        used = 0
    }
}
