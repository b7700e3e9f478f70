/// Reads one Parquet data file (§3.6) row group by row group: the columns `_metadata.json` names
/// are decoded into contiguous buffers, then copied sample by sample into batches.
///
/// Labels then conts (each by ascending column index) make `[labels…, dense…]`; they must be
/// float32, scalar or lists of one width. Cats (by ascending index) are the slots, split among the
/// sparse inputs in order; each is an integer column or a list of integers (multi-hot) whose
/// width matches the key type, and slot `k`'s keys are offset by `Σ_{j<k} slotSizeArray[j]`.
/// Nulls are refused; anything malformed in the file is a `DataError`.
///
/// ```swift
/// let meta = try ParquetDatasetMetadata(folder: "data/train")
/// let f = try ParquetFile(path: "data/train/part_0.parquet", metadata: meta, layout: layout,
///                         i64Keys: true, slotSizeArray: [])
/// while let batch = try f.readBatch(maxCount: 4096) { use(batch) }
/// ```
public final class ParquetFile {
    public let path: String
    /// Rows in the file (the footer's num_rows).
    public let numRows: Int
    public private(set) var rowsRead = 0

    private let layout: DataLayout
    private let footer: ParquetFooter
    private let decoder: ParquetChunkDecoder
    private let floatColumns: [Selected]
    private let keyColumns: [Selected]
    private let floatValues: [Column<Float>]
    private let floatStarts: [Column<Int>?]
    private let keyValues: [Column<Int64>]
    private let keyStarts: [Column<Int>?]
    /// Values per row of each float column; nil for a list column before its first row.
    private var floatWidths: [Int?]
    private var segments: [Segment] = []
    private var keyViews: [KeyView] = []
    private var group = -1
    private var rowInGroup = 0
    private var rowsInGroup = 0
    private var groupRowBase = 0

    private struct Selected {
        var leaf: ParquetLeaf
        var leafIndex: Int
        var name: String
        var offset: Int64 = 0
        var rawLimit: Int64 = 0
    }

    /// `count` floats of a float column's row, from value `start`, go to the labels or the dense values.
    private struct Segment {
        var values: UnsafeMutablePointer<Float>
        var width: Int
        var start: Int
        var count: Int
        var toLabels: Bool
        /// Where the values start in the sample's labels or dense values.
        var destination: Int
    }

    private struct KeyView {
        var keys: UnsafeMutablePointer<Int64>
        /// Row starts of a list column; nil for a scalar column (one key per row).
        var starts: UnsafeMutablePointer<Int>?
    }

    /// Opens `path` and checks its footer and schema against `metadata`, the layout and the key width.
    public convenience init(path: String, metadata: ParquetDatasetMetadata, layout: DataLayout, i64Keys: Bool,
                            slotSizeArray: [Int]) throws {
        try self.init(source: try ParquetSource(path: path), metadata: metadata, layout: layout, i64Keys: i64Keys,
                      slotSizeArray: slotSizeArray, checkStats: true)
    }

    /// Reads a Parquet file held in memory; `name` stands for its path in errors. `_metadata.json`'s
    /// file_stats are not consulted.
    public convenience init(bytes: [UInt8], name: String, metadata: ParquetDatasetMetadata, layout: DataLayout,
                            i64Keys: Bool, slotSizeArray: [Int]) throws {
        try self.init(source: ParquetSource(bytes: bytes, name: name), metadata: metadata, layout: layout, i64Keys: i64Keys,
                      slotSizeArray: slotSizeArray, checkStats: false)
    }

    private init(source: ParquetSource, metadata: ParquetDatasetMetadata, layout: DataLayout, i64Keys: Bool,
                 slotSizeArray: [Int], checkStats: Bool) throws {
        try layout.validate()
        path = source.path
        self.layout = layout
        footer = try Self.readFooter(source)
        numRows = footer.numRows
        decoder = ParquetChunkDecoder(source: source)
        let file = source.path
        if checkStats {
            let base = Self.basename(file)
            guard let rows = metadata.fileRows[base] else {
                throw DataError(file: file, "\(ParquetDatasetMetadata.fileName) has no file_stats entry for '\(base)'",
                                fix: "Add {\"file_name\": \"\(base)\", \"num_rows\": \(numRows)} to file_stats.")
            }
            guard rows == numRows else {
                throw DataError(file: file, "\(ParquetDatasetMetadata.fileName) file_stats disagrees with the file's footer",
                                expected: "num_rows \(numRows) (the footer)", found: "\(rows)",
                                fix: "Regenerate \(ParquetDatasetMetadata.fileName) for these files.")
            }
        }
        guard metadata.cats.count == layout.totalSlots else {
            throw DataError(file: file, "\(ParquetDatasetMetadata.fileName) lists \(metadata.cats.count) cats columns but the Input has \(layout.totalSlots) slots",
                            expected: "one cats column per slot", fix: "Make Σ slot_num of the DataReaderSparseParams equal the number of cats columns.")
        }
        let offsets = try Self.slotOffsets(slotSizeArray, slots: layout.totalSlots, i64Keys: i64Keys)
        var leafOfField = [Int?](repeating: nil, count: footer.fields.count)
        var leavesPerField = [Int](repeating: 0, count: footer.fields.count)
        for (i, leaf) in footer.leaves.enumerated() {
            leafOfField[leaf.field] = i
            leavesPerField[leaf.field] += 1
        }
        let footer = footer
        func select(_ column: ParquetDatasetMetadata.Column, role: String) throws -> Selected {
            let what = "\(role) column '\(column.name)' (index \(column.index))"
            guard column.index < footer.fields.count, let leafIndex = leafOfField[column.index] else {
                throw DataError(file: file, "\(what) is not in the file", expected: "an index below \(footer.fields.count) (the file's columns)",
                                fix: "Fix the index in \(ParquetDatasetMetadata.fileName); it counts columns from 0 in schema order.")
            }
            let leaf = footer.leaves[leafIndex]
            guard leavesPerField[column.index] == 1, leaf.maxRepetition <= 1 else {
                throw DataError(file: file, "\(what) ('\(leaf.name)') is nested; HugeCTR's Parquet format has only scalar and list columns",
                                fix: "Flatten the column, or store it as a list of numbers.")
            }
            return Selected(leaf: leaf, leafIndex: leafIndex, name: footer.fields[column.index])
        }
        floatColumns = try metadata.labels.map { try select($0, role: "label") } + metadata.conts.map { try select($0, role: "conts") }
        for c in floatColumns where c.leaf.type != .float {
            throw DataError(file: file, "column '\(c.name)' holds \(c.leaf.type.name) values; labels and dense features must be float32",
                            fix: "Cast the column to float32 before writing (pyarrow: table.cast, pandas: astype('float32')).")
        }
        var keys = try metadata.cats.map { try select($0, role: "cats") }
        let keyBits = i64Keys ? 64 : 32
        for k in keys.indices {
            let leaf = keys[k].leaf
            let bits = leaf.type == .int64 ? 64 : leaf.type == .int32 ? 32 : nil
            guard let bits, leaf.integerBits == nil || leaf.integerBits == bits, bits == keyBits else {
                let held = bits.map { "\(leaf.integerBits ?? $0)-bit integers" } ?? "\(leaf.type.name) values"
                throw DataError(file: file, "Parquet key type error: column '\(keys[k].name)' holds \(held), but i64_input_key is \(i64Keys), which reads \(keyBits)-bit keys",
                                expected: i64Keys ? "int64 or uint64 keys" : "int32 or uint32 keys",
                                fix: bits == nil || (leaf.integerBits ?? 32) < 32 ? "Write the column as int32/uint32 or int64/uint64."
                                    : "Set i64_input_key (input_key_type) to match, or cast the column to \(i64Keys ? "int64" : "int32").")
            }
            keys[k].offset = offsets[k]
            keys[k].rawLimit = (i64Keys ? Int64.max : Int64(UInt32.max)) - offsets[k]
        }
        keyColumns = keys
        floatValues = floatColumns.map { _ in Column(capacity: 1024) }
        floatStarts = floatColumns.map { $0.leaf.maxRepetition > 0 ? Column(capacity: 1024) : nil }
        keyValues = keyColumns.map { _ in Column(capacity: 1024) }
        keyStarts = keyColumns.map { $0.leaf.maxRepetition > 0 ? Column(capacity: 1024) : nil }
        floatWidths = floatColumns.map { $0.leaf.maxRepetition > 0 ? nil : 1 }
        if floatWidths.allSatisfy({ $0 != nil }) { try checkDenseWidth() }
    }

    /// Samples not yet read.
    public var remainingRecords: Int { numRows - rowsRead }

    /// The next `maxCount` samples (fewer at the end of the file), or nil once every row was read.
    public func readBatch(maxCount: Int) throws -> Batch? {
        guard remainingRecords > 0 else { return nil }
        let acc = BatchAccumulator(layout: layout, capacity: min(max(1, maxCount), remainingRecords))
        _ = try read(into: acc, upTo: max(1, maxCount))
        return acc.take()
    }

    /// `slot_size_array` as key offsets: slot k adds `Σ_{j<k} sizes[j]` (so a zero entry makes the
    /// next slot share the previous offset); a shorter array is padded with zeros.
    static func slotOffsets(_ sizes: [Int], slots: Int, i64Keys: Bool) throws -> [Int64] {
        guard sizes.count <= slots, sizes.allSatisfy({ $0 >= 0 }) else {
            throw DataError("slot_size_array must have at most one non-negative entry per slot",
                            expected: "≤ \(slots) entries ≥ 0", found: "\(sizes.count) entries, \(sizes.filter { $0 < 0 }.count) negative",
                            fix: "Give one cardinality per slot, in slot order.")
        }
        let limit = i64Keys ? Int64.max : Int64(UInt32.max)
        var offsets = [Int64](repeating: 0, count: slots)
        var running: Int64 = 0
        for k in 0 ..< slots {
            offsets[k] = running
            if k < sizes.count {
                let (sum, overflow) = running.addingReportingOverflow(Int64(sizes[k]))
                guard !overflow, sum <= limit || k == slots - 1 else {
                    throw DataError("the slot offsets from slot_size_array do not fit the key type",
                                    expected: "Σ slot_size_array ≤ \(limit)", fix: i64Keys ? "Check slot_size_array." : "Use i64_input_key (I64 keys), or check slot_size_array.")
                }
                running = sum
            }
        }
        return offsets
    }

    private static func basename(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
    }

    private static func readFooter(_ source: ParquetSource) throws -> ParquetFooter {
        let file = source.path
        guard source.size >= 12 else {
            throw DataError(file: file, "the file is too short to be a Parquet file", expected: "at least 12 bytes", found: "\(source.size)",
                            fix: "The file is truncated or not Parquet; rewrite it.")
        }
        var head = [UInt8](repeating: 0, count: 4), tail = [UInt8](repeating: 0, count: 8)
        try head.withUnsafeMutableBytes { try source.read(at: 0, count: 4, into: $0.baseAddress!) }
        try tail.withUnsafeMutableBytes { try source.read(at: source.size - 8, count: 8, into: $0.baseAddress!) }
        let magic: [UInt8] = Array("PAR1".utf8)
        guard head == magic, Array(tail[4...]) == magic else {
            let encrypted = Array(tail[4...]) == Array("PARE".utf8)
            throw DataError(file: file, encrypted ? "the Parquet file is encrypted" : "the file does not start and end with the Parquet magic 'PAR1'",
                            fix: encrypted ? "Write the data without Parquet encryption." : "Check that the file list names Parquet files; rewrite truncated files.")
        }
        let length = Int(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard length <= source.size - 12 else {
            throw DataError(file: file, offset: source.size - 8, "the footer length exceeds the file",
                            expected: "at most \(source.size - 12) bytes", found: "\(length)", fix: "The file is truncated or corrupt; rewrite it.")
        }
        let start = source.size - 8 - length
        var bytes = [UInt8](repeating: 0, count: length)
        try bytes.withUnsafeMutableBytes { try source.read(at: start, count: length, into: $0.baseAddress!) }
        source.dataEnd = start
        return try bytes.withUnsafeBytes { try ParquetFooter(parsing: $0, file: file, fileOffset: start) }
    }

    /// Σ label and dense widths must be label_dim + dense_dim.
    private func checkDenseWidth() throws {
        let total = floatWidths.reduce(0) { $0 + ($1 ?? 0) }
        guard total == layout.labelDim + layout.denseDim else {
            throw DataError(file: path, "Dense dim of given file and dense dim doesn't match: the labels and conts columns of \(ParquetDatasetMetadata.fileName) hold \(total) values per row",
                            expected: "label_dim + dense_dim = \(layout.labelDim) + \(layout.denseDim)",
                            fix: "Set the Input's label_dim and dense_dim to the file's columns, or edit labels/conts in \(ParquetDatasetMetadata.fileName).")
        }
    }

    // MARK: reading

    /// Passes over the next `count` rows; whole row groups are skipped without decoding.
    func skip(_ count: Int) throws {
        var left = min(count, remainingRecords)
        while left > 0 {
            if rowInGroup < rowsInGroup {
                let n = min(left, rowsInGroup - rowInGroup)
                rowInGroup += n
                rowsRead += n
                left -= n
            } else if footer.rowGroups[group + 1].numRows <= left {
                group += 1
                let rows = footer.rowGroups[group].numRows
                rowsRead += rows
                left -= rows
            } else {
                try loadGroup(group + 1)
            }
        }
    }

    /// Appends up to `limit` samples to `acc`; returns how many were appended.
    func read(into acc: BatchAccumulator, upTo limit: Int) throws -> Int {
        var done = 0
        while done < limit && remainingRecords > 0 {
            if rowInGroup == rowsInGroup {
                try loadGroup(group + 1)
                continue
            }
            let n = min(limit - done, rowsInGroup - rowInGroup)
            try copyRows(rowInGroup, count: n, into: acc)
            rowInGroup += n
            rowsRead += n
            done += n
        }
        return done
    }

    private func loadGroup(_ g: Int) throws {
        let rowGroup = footer.rowGroups[g]
        group = g
        groupRowBase = rowsRead
        rowInGroup = 0
        rowsInGroup = 0
        for (c, column) in floatColumns.enumerated() {
            let values = floatValues[c]
            values.removeAll()
            floatStarts[c]?.removeAll()
            try decoder.decode(rowGroup.chunks[column.leafIndex], leaf: column.leaf, rows: rowGroup.numRows, into: .floats(values),
                               starts: floatStarts[c], context: ParquetChunkContext(file: path, column: column.name, rowBase: groupRowBase))
            if let starts = floatStarts[c], rowGroup.numRows > 0 {
                let s = starts.base
                let width = floatWidths[c] ?? s[1] - s[0]
                for r in 0 ..< rowGroup.numRows where s[r + 1] - s[r] != width {
                    throw DataError(file: path, "column '\(column.name)', row \(groupRowBase + r): a list of dense values changes length",
                                    expected: "\(width) values in every row", found: "\(s[r + 1] - s[r])",
                                    fix: "Give every row of a list<float> conts column the same number of values.")
                }
                if floatWidths[c] == nil {
                    floatWidths[c] = width
                    if floatWidths.allSatisfy({ $0 != nil }) { try checkDenseWidth() }
                }
            }
        }
        for (k, column) in keyColumns.enumerated() {
            keyValues[k].removeAll()
            keyStarts[k]?.removeAll()
            try decoder.decode(rowGroup.chunks[column.leafIndex], leaf: column.leaf, rows: rowGroup.numRows,
                               into: .keys(keyValues[k], offset: column.offset, rawLimit: column.rawLimit),
                               starts: keyStarts[k], context: ParquetChunkContext(file: path, column: column.name, rowBase: groupRowBase))
        }
        guard rowGroup.numRows == 0 || floatWidths.allSatisfy({ $0 != nil }) else {
            throw DataError(file: path, "a list<float> column is empty in its first row group, so its width is unknown",
                            fix: "Write dense list columns with at least one row per row group.")
        }
        makePlan()
        rowsInGroup = rowGroup.numRows
    }

    /// Where each float column's values go, and the key columns' buffers, for this row group.
    private func makePlan() {
        segments.removeAll(keepingCapacity: true)
        var position = 0
        for c in floatColumns.indices {
            let width = floatWidths[c] ?? 0
            let values = floatValues[c].base
            let inLabels = max(0, min(width, layout.labelDim - position))
            if inLabels > 0 {
                segments.append(Segment(values: values, width: width, start: 0, count: inLabels, toLabels: true, destination: position))
            }
            if width > inLabels {
                segments.append(Segment(values: values, width: width, start: inLabels, count: width - inLabels, toLabels: false,
                                        destination: position + inLabels - layout.labelDim))
            }
            position += width
        }
        keyViews = keyColumns.indices.map { KeyView(keys: keyValues[$0].base, starts: keyStarts[$0]?.base) }
    }

    /// Appends rows `first ..< first + n` of the decoded row group, a chunk of rows at a time.
    private func copyRows(_ first: Int, count n: Int, into acc: BatchAccumulator) throws {
        var done = 0
        while done < n {
            let m = min(n - done, BatchAccumulator.chunk), start = first + done
            try acc.append(samples: m) { out in try copyChunk(start, count: m, into: &out) }
            done += m
        }
    }

    /// Rows `first ..< first + n`: float columns row by row, then each sparse input's slots row
    /// by row (each input has its own CSR, so inputs are independent), through raw pointers.
    private func copyChunk(_ first: Int, count n: Int, into out: inout SampleWriter) throws {
        for seg in segments {
            let (base, stride) = seg.toLabels ? (out.labels, layout.labelDim) : (out.dense, layout.denseDim)
            let src = seg.values + first * seg.width + seg.start, dst = base + seg.destination
            for r in 0 ..< n {
                for i in 0 ..< seg.count { dst[r &* stride &+ i] = src[r &* seg.width &+ i] }
            }
        }
        out.labels += n * layout.labelDim
        out.dense += n * layout.denseDim
        var slot = 0
        for k in 0 ..< out.sparse.count {
            var c = out.sparse[k]
            try keyViews.withUnsafeBufferPointer { all in
                let views = UnsafeBufferPointer(rebasing: all[slot ..< slot + c.slots])
                // Column by column: each slot's row lengths into the offsets (one sequential stream
                // per slot, not one per slot and row), then a running sum over the rows, then each
                // slot's keys to their rows. A chunk's offsets and keys stay in cache meanwhile.
                let offsets = c.offsets + c.offsetCount, slots = c.slots
                if views.allSatisfy({ $0.starts == nil }) {
                    // Scalar columns only: one key per row and slot, the offsets count up by one.
                    guard slots <= c.maxKeys else { throw tooManyKeys(k, row: first, keys: slots) }
                    let keys = c.keys + c.keyCount
                    for (s, view) in views.enumerated() {
                        for r in 0 ..< n { keys[r &* slots &+ s] = view.keys[first &+ r] }
                    }
                    for i in 0 ..< n &* slots { offsets[i] = Int64(c.keyCount &+ i &+ 1) }
                    c.keyCount &+= n &* slots
                    c.offsetCount &+= n &* slots
                    return
                }
                var irregular = false
                for (s, view) in views.enumerated() {
                    if let starts = view.starts {
                        for r in 0 ..< n {
                            let length = starts[first &+ r &+ 1] &- starts[first &+ r]
                            irregular = irregular || length != 1
                            offsets[r &* slots &+ s] = Int64(length)
                        }
                    } else {
                        for r in 0 ..< n { offsets[r &* slots &+ s] = 1 }
                    }
                }
                var total = Int64(c.keyCount), rowStart = total
                for r in 0 ..< n {
                    for s in 0 ..< slots {
                        total &+= offsets[r &* slots &+ s]
                        offsets[r &* slots &+ s] = total
                    }
                    guard Int(total &- rowStart) <= c.maxKeys else { throw tooManyKeys(k, row: first + r, keys: Int(total - rowStart)) }
                    rowStart = total
                }
                for (s, view) in views.enumerated() {
                    for r in 0 ..< n {
                        let row = r &* slots &+ s
                        let end = Int(offsets[row]), start = row == 0 ? c.keyCount : Int(offsets[row &- 1])
                        let from = view.starts?[first &+ r] ?? first &+ r
                        for i in 0 ..< end &- start { c.keys[start &+ i] = view.keys[from &+ i] }
                    }
                }
                c.keyCount = Int(total)
                c.offsetCount &+= n &* slots
                c.multiHot = c.multiHot || irregular
            }
            out.sparse[k] = c
            slot += c.slots
        }
        out.samples = n
    }

    private func tooManyKeys(_ k: Int, row r: Int, keys: Int) -> DataError {
        let input = layout.sparse[k]
        return DataError(file: path, "row \(groupRowBase + r): sparse input '\(input.name)' has too many keys",
                         expected: "at most \(input.maxNNZPerSample) (Σ nnz_per_slot)", found: "at least \(keys)",
                         fix: "Raise nnz_per_slot of the DataReaderSparseParam to the longest lists in the data.")
    }
}
