import Foundation

/// Writes one Parquet file in HugeCTR's layout: float32 label and dense columns, then one integer
/// key column per slot (scalar, or `list<int>` for a multi-hot slot). Values are PLAIN encoded in
/// one v1 data page per column chunk, optionally compressed; a row group is written every
/// `rowGroupSize` rows. The file appears under `path` only when ``finish()`` succeeds.
///
/// Keys are written as int64 (`i64Keys`) or uint32. Pair the files with a `_metadata.json`
/// (``ParquetDatasetMetadata``) whose labels, conts and cats are the columns in this order.
///
/// ```swift
/// let w = try ParquetWriter(path: "part_0.parquet", labelNames: ["label"], denseNames: ["I1"],
///                           slotNames: ["C1", "C2"], multiHot: [false, true], i64Keys: true)
/// try w.append(labels: [1], dense: [0.5], keys: [3, 7, 8], slotNNZ: [1, 2])
/// try w.finish()
/// ```
public final class ParquetWriter {
    public let path: String
    public let compression: ParquetCompression
    public let rowGroupSize: Int
    public private(set) var recordCount = 0

    private let floatNames: [String]
    private let labelCount: Int
    private let slotNames: [String]
    private let multiHot: [Bool]
    private let i64Keys: Bool
    private let tmpPath: String
    private let handle: FileHandle
    private var offset = 0
    private var finished = false
    private var floats: [[Float]]
    private var keys: [[Int64]]
    /// Keys per row of each multi-hot slot in the pending row group.
    private var counts: [[Int]]
    private var pendingRows = 0
    private var rowGroups: [[UInt8]] = []

    public init(path: String, labelNames: [String], denseNames: [String], slotNames: [String], multiHot: [Bool],
                i64Keys: Bool, compression: ParquetCompression = .uncompressed, rowGroupSize: Int = 1 << 16) throws {
        guard !labelNames.isEmpty, !slotNames.isEmpty, multiHot.count == slotNames.count, rowGroupSize >= 1 else {
            throw DataError(file: path, "invalid Parquet writer settings",
                            expected: "≥ 1 label, ≥ 1 slot, one multiHot flag per slot, rowGroupSize ≥ 1",
                            found: "\(labelNames.count) labels, \(slotNames.count) slots, \(multiHot.count) flags, rowGroupSize \(rowGroupSize)")
        }
        guard [.uncompressed, .snappy, .zstd].contains(compression) else {
            throw DataError(file: path, "SwiftCTR writes Parquet uncompressed, with snappy or with zstd", found: compression.name)
        }
        self.path = path
        self.compression = compression
        self.rowGroupSize = rowGroupSize
        floatNames = labelNames + denseNames
        labelCount = labelNames.count
        self.slotNames = slotNames
        self.multiHot = multiHot
        self.i64Keys = i64Keys
        floats = floatNames.map { _ in [] }
        keys = slotNames.map { _ in [] }
        counts = slotNames.map { _ in [] }
        tmpPath = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmpPath, contents: nil), let handle = FileHandle(forWritingAtPath: tmpPath) else {
            throw DataError(file: tmpPath, "cannot create the data file", fix: "Check that the folder exists and is writable.")
        }
        self.handle = handle
        try write(Array("PAR1".utf8))
    }

    /// A writer of HugeCTR's generator columns: `label` (or `label0…`), `I1…I<denseDim>`, then `C1…` (one per
    /// `multiHot` flag), as ``ParquetDatasetMetadata/init(fileRows:labels:denseDim:slots:)`` describes them.
    public convenience init(path: String, labels: Int = 1, denseDim: Int, multiHot: [Bool], i64Keys: Bool,
                            compression: ParquetCompression, rowGroupSize: Int) throws {
        let names = ParquetDatasetMetadata.generatorColumnNames(labels: labels, denseDim: denseDim, slots: multiHot.count)
        try self.init(path: path, labelNames: names.labels, denseNames: names.dense, slotNames: names.slots, multiHot: multiHot,
                      i64Keys: i64Keys, compression: compression, rowGroupSize: rowGroupSize)
    }

    deinit {
        if !finished {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: tmpPath)
        }
    }

    /// Appends one sample; slot `s` holds the next `slotNNZ[s]` keys (exactly one for a scalar slot).
    public func append(labels: [Float], dense: [Float], keys sampleKeys: [Int64], slotNNZ: [Int]) throws {
        guard labels.count == labelCount, dense.count == floatNames.count - labelCount, slotNNZ.count == slotNames.count,
              slotNNZ.allSatisfy({ $0 >= 0 }), slotNNZ.reduce(0, +) == sampleKeys.count else {
            throw DataError(file: path, "record \(recordCount): wrong number of labels, dense values or keys",
                            expected: "\(labelCount) labels, \(floatNames.count - labelCount) dense, \(slotNames.count) slot counts summing to the keys",
                            found: "\(labels.count) labels, \(dense.count) dense, slot counts \(slotNNZ) for \(sampleKeys.count) keys")
        }
        for (c, v) in labels.enumerated() { floats[c].append(v) }
        for (c, v) in dense.enumerated() { floats[labelCount + c].append(v) }
        var start = 0
        for (s, n) in slotNNZ.enumerated() {
            guard multiHot[s] || n == 1 else {
                throw DataError(file: path, "record \(recordCount): scalar slot '\(slotNames[s])' needs exactly one key", found: "\(n)",
                                fix: "Mark the slot multi-hot.")
            }
            for key in sampleKeys[start ..< start + n] {
                guard i64Keys || (key >= 0 && key <= Int64(UInt32.max)) else {
                    throw DataError(file: path, "record \(recordCount), slot \(s): key \(key) does not fit in uint32",
                                    fix: "Write the dataset with i64Keys: true (i64_input_key=True).")
                }
                keys[s].append(key)
            }
            if multiHot[s] { counts[s].append(n) }
            start += n
        }
        recordCount += 1
        pendingRows += 1
        if pendingRows == rowGroupSize { try flushRowGroup() }
    }

    /// Writes the last row group and the footer and moves the file into place.
    public func finish() throws {
        guard !finished else { return }
        if pendingRows > 0 { try flushRowGroup() }
        var footer = ThriftWriter()
        footer.beginStruct()
        footer.field(1, i32: 1)
        writeSchema(&footer)
        footer.field(3, i64: Int64(recordCount))
        footer.beginList(4, of: .structure, count: rowGroups.count)
        for group in rowGroups { footer.append(raw: group) }
        footer.field(6, string: "SwiftCTR")
        footer.endStruct()
        let length = UInt32(footer.bytes.count)
        try write(footer.bytes + [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: length >> $0) } + Array("PAR1".utf8))
        try closeAndMoveIntoPlace(handle, from: tmpPath, to: path)
        finished = true
    }

    // MARK: encoding

    private func write(_ bytes: [UInt8]) throws {
        do {
            try handle.write(contentsOf: bytes)
        } catch {
            throw DataError(file: tmpPath, "write failed: \(error)", fix: "Check free disk space.")
        }
        offset += bytes.count
    }

    private func writeSchema(_ w: inout ThriftWriter) {
        w.beginList(2, of: .structure, count: 1 + floatNames.count + slotNames.count + 2 * multiHot.filter { $0 }.count)
        w.beginStruct()
        w.field(4, string: "schema")
        w.field(5, i32: Int32(floatNames.count + slotNames.count))
        w.endStruct()
        for name in floatNames { leaf(&w, name: name, type: .float, repetition: 0) }
        for (s, name) in slotNames.enumerated() {
            let type: ParquetPhysicalType = i64Keys ? .int64 : .int32
            guard multiHot[s] else {
                leaf(&w, name: name, type: type, repetition: 0)
                continue
            }
            w.beginStruct()
            w.field(3, i32: 0)
            w.field(4, string: name)
            w.field(5, i32: 1)
            w.field(6, i32: 3)   // ConvertedType LIST
            w.beginField(10)      // LogicalType { 3: ListType {} }
            w.beginField(3)
            w.endStruct()
            w.endStruct()
            w.endStruct()
            w.beginStruct()
            w.field(3, i32: 2)
            w.field(4, string: "list")
            w.field(5, i32: 1)
            w.endStruct()
            leaf(&w, name: "element", type: type, repetition: 0)
        }
    }

    private func leaf(_ w: inout ThriftWriter, name: String, type: ParquetPhysicalType, repetition: Int32) {
        w.beginStruct()
        w.field(1, i32: type.rawValue)
        w.field(3, i32: repetition)
        w.field(4, string: name)
        if type == .int32 {
            w.field(6, i32: 13)   // ConvertedType UINT_32
            w.beginField(10)       // LogicalType { 10: IntType { 1: bitWidth 32, 2: isSigned false } }
            w.beginField(10)
            w.field(1, byte: 32)
            w.field(2, bool: false)
            w.endStruct()
            w.endStruct()
        }
        w.endStruct()
    }

    /// Writes the pending rows as a row group and keeps its metadata for the footer.
    private func flushRowGroup() throws {
        var chunks: [(meta: [UInt8], bytes: Int)] = []
        for (c, name) in floatNames.enumerated() {
            let values = floats[c].withUnsafeBytes { Array($0) }
            chunks.append(try writeChunk(path: [name], type: .float, values: values, levels: nil, count: pendingRows))
            floats[c].removeAll(keepingCapacity: true)
        }
        for (s, name) in slotNames.enumerated() {
            let values: [UInt8] = i64Keys ? keys[s].withUnsafeBytes { Array($0) }
                : keys[s].map { UInt32(truncatingIfNeeded: $0) }.withUnsafeBytes { Array($0) }
            if multiHot[s] {
                var rep: [UInt8] = [], def: [UInt8] = []
                for n in counts[s] {
                    rep.append(0)
                    def.append(n > 0 ? 1 : 0)
                    for _ in 1 ..< max(n, 1) {
                        rep.append(1)
                        def.append(1)
                    }
                }
                chunks.append(try writeChunk(path: [name, "list", "element"], type: i64Keys ? .int64 : .int32, values: values,
                                             levels: (rep, def), count: rep.count))
            } else {
                chunks.append(try writeChunk(path: [name], type: i64Keys ? .int64 : .int32, values: values, levels: nil, count: pendingRows))
            }
            keys[s].removeAll(keepingCapacity: true)
            counts[s].removeAll(keepingCapacity: true)
        }
        var w = ThriftWriter()
        w.beginStruct()
        w.beginList(1, of: .structure, count: chunks.count)
        for chunk in chunks { w.append(raw: chunk.meta) }
        w.field(2, i64: Int64(chunks.reduce(0) { $0 + $1.bytes }))
        w.field(3, i64: Int64(pendingRows))
        w.endStruct()
        rowGroups.append(w.bytes)
        pendingRows = 0
    }

    /// Writes one column chunk (a single data page) and returns its ColumnChunk struct.
    private func writeChunk(path columnPath: [String], type: ParquetPhysicalType, values: [UInt8],
                            levels: (rep: [UInt8], def: [UInt8])?, count: Int) throws -> (meta: [UInt8], bytes: Int) {
        var body: [UInt8] = []
        if let levels {
            for run in [levels.rep, levels.def] {
                let packed = Self.bitPacked(run)
                body += [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: packed.count >> $0) } + packed
            }
        }
        body += values
        let stored = try CompressionLibrary.compress(compression, body, file: path)
        var header = ThriftWriter()
        header.beginStruct()
        header.field(1, i32: 0)
        header.field(2, i32: Int32(body.count))
        header.field(3, i32: Int32(stored.count))
        header.beginField(5)
        header.field(1, i32: Int32(count))
        header.field(2, i32: 0)
        header.field(3, i32: 3)
        header.field(4, i32: 3)
        header.endStruct()
        header.endStruct()
        let pageOffset = offset
        try write(header.bytes + stored)
        var meta = ThriftWriter()
        meta.beginStruct()
        meta.field(2, i64: Int64(pageOffset))
        meta.beginField(3)
        meta.field(1, i32: type.rawValue)
        meta.beginList(2, of: .i32, count: 2)
        meta.element(i32: 0)
        meta.element(i32: 3)
        meta.beginList(3, of: .binary, count: columnPath.count)
        for part in columnPath { meta.element(string: part) }
        meta.field(4, i32: compression.rawValue)
        meta.field(5, i64: Int64(count))
        meta.field(6, i64: Int64(header.bytes.count + body.count))
        meta.field(7, i64: Int64(header.bytes.count + stored.count))
        meta.field(9, i64: Int64(pageOffset))
        meta.endStruct()
        meta.endStruct()
        return (meta.bytes, header.bytes.count + body.count)
    }

    /// 0/1 levels as one bit-packed run of the RLE/bit-packing hybrid (bit width 1).
    static func bitPacked(_ levels: [UInt8]) -> [UInt8] {
        let groups = (levels.count + 7) / 8
        var out: [UInt8] = []
        var header = UInt64(groups) << 1 | 1
        while header >= 0x80 {
            out.append(UInt8(header & 0x7F) | 0x80)
            header >>= 7
        }
        out.append(UInt8(header))
        for g in 0 ..< groups {
            var byte: UInt8 = 0
            for i in 0 ..< 8 where 8 * g + i < levels.count && levels[8 * g + i] != 0 { byte |= 1 << UInt8(i) }
            out.append(byte)
        }
        return out
    }
}
