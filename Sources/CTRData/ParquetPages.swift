/// Raw memory that grows on demand and keeps 8 spare bytes past what was asked for, so the
/// bit-unpacking loops may load whole words at the end of a run.
final class ScratchBuffer {
    private(set) var base: UnsafeMutableRawPointer
    private var capacity: Int

    init(capacity: Int = 1 << 16) {
        self.capacity = capacity
        base = .allocate(byteCount: capacity + 8, alignment: 16)
    }

    deinit { base.deallocate() }

    /// At least `bytes` (+8) bytes; the old contents are not kept.
    func pointer(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes > capacity {
            base.deallocate()
            capacity = max(bytes, 2 * capacity)
            base = .allocate(byteCount: capacity + 8, alignment: 16)
        }
        return base
    }
}

/// Where a column chunk's values go: floats as they are, or keys widened to Int64 plus the
/// slot's offset. A key above `rawLimit` would overflow the key type once offset.
enum ParquetTarget {
    case floats(Column<Float>)
    case keys(Column<Int64>, offset: Int64, rawLimit: Int64)
}

/// What a chunk decode reports in errors: the file, the column and the first row of the row group.
struct ParquetChunkContext {
    var file: String
    var column: String
    var rowBase: Int
}

/// Decodes Parquet column chunks (data pages v1 and v2, dictionary pages; PLAIN and dictionary
/// encodings; RLE/bit-packed levels) into contiguous buffers. Its scratch buffers are reused from
/// chunk to chunk, so decoding allocates nothing once they have grown to the largest page.
final class ParquetChunkDecoder {
    private let source: ParquetSource
    private let chunkBuffer = ScratchBuffer(capacity: 1 << 20)
    private let pageBuffer = ScratchBuffer(capacity: 1 << 20)
    private let dictionary = ScratchBuffer(capacity: 1 << 12)
    private let definitions = ScratchBuffer()
    private let repetitions = ScratchBuffer()
    private let indices = ScratchBuffer()

    static let maxPageValues = 1 << 26

    init(source: ParquetSource) { self.source = source }

    /// Decodes chunk `chunk` of `leaf`, which must hold `rows` rows, appending its values to
    /// `target` and, for a list column, each row's start in the values (and the end) to `starts`.
    func decode(_ chunk: ParquetChunk, leaf: ParquetLeaf, rows: Int, into target: ParquetTarget,
                starts: Column<Int>?, context: ParquetChunkContext) throws {
        let file = context.file
        func fail(_ offset: Int, _ problem: String, expected: String? = nil, found: String? = nil) -> DataError {
            DataError(file: file, offset: offset, "column '\(context.column)': \(problem)", expected: expected, found: found,
                      fix: "The file is corrupt or was written by an unusual writer; rewrite it with pyarrow.parquet.write_table.")
        }
        let start = Int(chunk.start), size = Int(chunk.compressedSize)
        guard start >= 4, size <= source.dataEnd, start <= source.dataEnd - size else {
            throw fail(start, "the column chunk lies outside the file's data", found: "bytes \(start) ..< \(start + size)")
        }
        guard chunk.type == leaf.type.rawValue else {
            throw fail(start, "the column chunk's type disagrees with the schema", expected: leaf.type.name, found: "type \(chunk.type)")
        }
        guard let codec = ParquetCompression(rawValue: chunk.codec) else {
            throw fail(start, "unknown compression codec", found: "\(chunk.codec)")
        }
        let width = leaf.type == .int64 ? 8 : 4
        let base = chunkBuffer.pointer(size)
        try source.read(at: start, count: size, into: base)
        var pos = 0
        var dictionaryCount = -1
        var rowsSeen = 0
        var valuesSeen = 0
        let startCount = target.count
        while pos < size {
            var reader = ThriftReader(UnsafeRawBufferPointer(start: base + pos, count: size - pos), file: file, fileOffset: start + pos)
            let header = try ParquetPageHeader(parsing: &reader)
            pos += reader.position
            let bodyOffset = start + pos
            guard header.compressedSize <= size - pos else {
                throw fail(bodyOffset, "a page runs past the end of its column chunk",
                           expected: "at most \(size - pos) bytes", found: "\(header.compressedSize)")
            }
            let body = UnsafeRawPointer(base + pos)
            pos += header.compressedSize
            switch header.kind {
            case .index:
                continue
            case .dictionary:
                guard dictionaryCount < 0, valuesSeen == 0 else { throw fail(bodyOffset, "a dictionary page follows other pages") }
                guard header.encoding == 0 || header.encoding == 2 else {
                    throw fail(bodyOffset, "a dictionary page is not PLAIN encoded", found: "encoding \(header.encoding)")
                }
                let page = try expand(body, header.compressedSize, to: header.uncompressedSize, codec, file: file, offset: bodyOffset)
                guard header.numValues <= header.uncompressedSize / width else {
                    throw fail(bodyOffset, "the dictionary page is too short for its values",
                               expected: "\(header.numValues) × \(width) bytes", found: "\(header.uncompressedSize)")
                }
                dictionaryCount = header.numValues
                Self.convertDictionary(page, count: dictionaryCount, type: leaf.type, target: target,
                                       into: dictionary.pointer(8 * dictionaryCount))
            case .data, .dataV2:
                guard !header.bitPackedLevels else {
                    throw fail(bodyOffset, "the page's levels use the deprecated BIT_PACKED encoding", expected: "RLE levels")
                }
                let n = header.numValues
                // Bounds the scratch a page header can make us allocate: a flat column has one
                // value per row, and no real writer puts 2^26 list entries in one page.
                guard n <= (leaf.maxRepetition == 0 ? min(rows - rowsSeen, Self.maxPageValues) : Self.maxPageValues) else {
                    throw fail(bodyOffset, "a page holds more values than its row group has rows, or than any writer puts in one page",
                               expected: "at most \(leaf.maxRepetition == 0 ? rows - rowsSeen : Self.maxPageValues)", found: "\(n)")
                }
                var levelBytes: (rep: UnsafeRawBufferPointer, def: UnsafeRawBufferPointer)
                var values: UnsafeRawBufferPointer
                if header.kind == .data {
                    let page = try expand(body, header.compressedSize, to: header.uncompressedSize, codec, file: file, offset: bodyOffset)
                    var p = 0
                    func prefixed(_ present: Bool) throws -> UnsafeRawBufferPointer {
                        guard present else { return UnsafeRawBufferPointer(start: page, count: 0) }
                        guard header.uncompressedSize - p >= 4 else { throw fail(bodyOffset, "the page ends before its levels' length") }
                        let length = Int(UInt32(littleEndian: page.loadUnaligned(fromByteOffset: p, as: UInt32.self)))
                        guard length <= header.uncompressedSize - p - 4 else {
                            throw fail(bodyOffset, "a level run length exceeds the page", found: "\(length) bytes")
                        }
                        defer { p += 4 + length }
                        return UnsafeRawBufferPointer(start: page + p + 4, count: length)
                    }
                    levelBytes.rep = try prefixed(leaf.maxRepetition > 0)
                    levelBytes.def = try prefixed(leaf.maxDefinition > 0)
                    values = UnsafeRawBufferPointer(start: page + p, count: header.uncompressedSize - p)
                } else {
                    let levels = header.repetitionBytes + header.definitionBytes
                    levelBytes.rep = UnsafeRawBufferPointer(start: body, count: header.repetitionBytes)
                    levelBytes.def = UnsafeRawBufferPointer(start: body + header.repetitionBytes, count: header.definitionBytes)
                    let stored = header.compressedSize - levels
                    let expanded = header.uncompressedSize - levels
                    guard expanded >= 0 else { throw fail(bodyOffset, "a v2 page's levels exceed its uncompressed size") }
                    let page = try header.isCompressed
                        ? expand(body + levels, stored, to: expanded, codec, file: file, offset: bodyOffset + levels)
                        : expand(body + levels, stored, to: expanded, .uncompressed, file: file, offset: bodyOffset + levels)
                    values = UnsafeRawBufferPointer(start: page, count: expanded)
                }
                let present = try levels(n, leaf: leaf, levelBytes, rowsSeen: &rowsSeen, valueBase: target.count - startCount,
                                         starts: starts, context: context, offset: bodyOffset)
                switch header.encoding {
                case 0:
                    guard present <= values.count / width else {
                        throw fail(bodyOffset, "the page is too short for its PLAIN values",
                                   expected: "\(present) × \(width) bytes", found: "\(values.count)")
                    }
                    try Self.emitPlain(values.baseAddress!, count: present, type: leaf.type, target: target, context: context)
                case 2, 8:
                    guard dictionaryCount >= 0 else { throw fail(bodyOffset, "a dictionary-encoded page comes without a dictionary page") }
                    guard values.count >= 1 else { throw fail(bodyOffset, "a dictionary-encoded page has no bit width byte") }
                    let bits = Int(values.load(as: UInt8.self))
                    let out = indices.pointer(4 * present).bindMemory(to: UInt32.self, capacity: present)
                    guard bits <= 32, Self.decodeHybrid(values.baseAddress! + 1, length: values.count - 1, bitWidth: bits,
                                                        count: present, into: out) != nil else {
                        throw fail(bodyOffset, "the dictionary indices are malformed", found: "bit width \(bits)")
                    }
                    try Self.gather(out, count: present, dictionary: dictionary.base, dictionaryCount: dictionaryCount,
                                    target: target, context: context, offset: bodyOffset)
                default:
                    throw fail(bodyOffset, "the page uses encoding \(header.encoding), which SwiftCTR does not read",
                               expected: "PLAIN, PLAIN_DICTIONARY or RLE_DICTIONARY",
                               found: "\(header.encoding)")
                }
                valuesSeen += n
            }
        }
        guard rowsSeen == rows else {
            throw fail(start, "the column chunk holds a different number of rows than its row group",
                       expected: "\(rows)", found: "\(rowsSeen)")
        }
        if let starts {
            starts.reserve(1)
            starts.appendUnchecked(target.count - startCount)
        }
    }

    /// The page body decompressed into the page buffer (or in place when stored uncompressed).
    private func expand(_ body: UnsafeRawPointer, _ stored: Int, to size: Int, _ codec: ParquetCompression,
                        file: String, offset: Int) throws -> UnsafeRawPointer {
        if codec == .uncompressed {
            guard stored == size else {
                throw DataError(file: file, offset: offset, "an uncompressed page's stored and uncompressed sizes differ",
                                expected: "\(size)", found: "\(stored)", fix: "The file is corrupt; rewrite it.")
            }
            return body
        }
        let pages = pageBuffer
        try CompressionLibrary.decompress(codec, body, count: stored, into: { pages.pointer($0) }, expected: size, file: file, offset: offset)
        return UnsafeRawPointer(pages.base)
    }

    /// Decodes a page's levels and returns how many values it holds; refuses nulls; for lists,
    /// appends the start of each row beginning in the page to `starts`.
    private func levels(_ n: Int, leaf: ParquetLeaf, _ bytes: (rep: UnsafeRawBufferPointer, def: UnsafeRawBufferPointer),
                        rowsSeen: inout Int, valueBase: Int, starts: Column<Int>?, context: ParquetChunkContext,
                        offset: Int) throws -> Int {
        func malformed(_ what: String) -> DataError {
            DataError(file: context.file, offset: offset, "column '\(context.column)': the page's \(what) levels are malformed",
                      fix: "The file is corrupt; rewrite it.")
        }
        guard n >= 0, n <= 1 << 31 else { throw malformed("definition") }
        let maxDef = leaf.maxDefinition
        guard maxDef > 0 else {
            rowsSeen += n
            return n
        }
        let defs = definitions.pointer(4 * n).bindMemory(to: UInt32.self, capacity: n)
        guard Self.decodeHybrid(bytes.def.baseAddress!, length: bytes.def.count, bitWidth: Self.bitWidth(maxDef),
                                count: n, into: defs) != nil else { throw malformed("definition") }
        let full = UInt32(maxDef)
        if leaf.maxRepetition == 0 {
            var i = 0
            while i < n && defs[i] == full { i += 1 }
            guard i == n else { throw null(row: context.rowBase + rowsSeen + i, context: context) }
            rowsSeen += n
            return n
        }
        guard let starts else { throw malformed("repetition") }
        let reps = repetitions.pointer(4 * n).bindMemory(to: UInt32.self, capacity: n)
        guard Self.decodeHybrid(bytes.rep.baseAddress!, length: bytes.rep.count, bitWidth: Self.bitWidth(leaf.maxRepetition),
                                count: n, into: reps) != nil else { throw malformed("repetition") }
        let empty = UInt32(leaf.repeatedDefinition - 1)
        starts.reserve(n)
        // Row starts through a local pointer and count: the column's own count would be reloaded
        // from memory on every value.
        let out = starts.base + starts.count
        var present = 0, rows = 0
        defer { starts.appendedUnchecked(rows) }
        for i in 0 ..< n {
            let d = defs[i]
            if reps[i] == 0 {
                out[rows] = valueBase &+ present
                rows &+= 1
            } else if rowsSeen &+ rows == 0 {
                throw malformed("repetition")
            }
            if d == full {
                present &+= 1
            } else if d != empty || reps[i] != 0 {
                throw null(row: context.rowBase + rowsSeen + rows - 1, context: context)
            }
        }
        rowsSeen += rows
        return present
    }

    private func null(row: Int, context: ParquetChunkContext) -> DataError {
        DataError(file: context.file, "column '\(context.column)', row \(row) is null (or holds a null list element); HugeCTR's Parquet format has no nulls",
                  fix: "Fill the missing values before writing the file (for example NVTabular's FillMissing or pyarrow.compute.fill_null).")
    }

    static func bitWidth(_ maxLevel: Int) -> Int { maxLevel == 0 ? 0 : Int.bitWidth - maxLevel.leadingZeroBitCount }

    // MARK: values

    private static func keyOverflow(_ raw: Int64, context: ParquetChunkContext, offset: Int64) -> DataError {
        DataError(file: context.file, "column '\(context.column)': key \(raw) plus the slot offset \(offset) from slot_size_array does not fit the key type",
                  fix: "Check slot_size_array (its entries add up to the offsets) and i64_input_key.")
    }

    /// Converts `count` PLAIN values at `source` into the target.
    static func emitPlain(_ source: UnsafeRawPointer, count: Int, type: ParquetPhysicalType, target: ParquetTarget,
                          context: ParquetChunkContext) throws {
        switch target {
        case .floats(let out):
            out.append(from: source, count: count)
        case .keys(let out, let offset, let limit):
            out.reserve(count)
            let dst = out.base + out.count
            var over = false
            if type == .int64 {
                for i in 0 ..< count {
                    let raw = Int64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    over = over || raw > limit
                    dst[i] = raw &+ offset
                }
            } else {
                for i in 0 ..< count {
                    let raw = Int64(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    over = over || raw > limit
                    dst[i] = raw &+ offset
                }
            }
            if over {
                let i = (0 ..< count).first { dst[$0] &- offset > limit }!
                throw keyOverflow(dst[i] &- offset, context: context, offset: offset)
            }
            out.appendedUnchecked(count)
        }
    }

    /// Stores the dictionary as floats, or as raw keys widened to Int64 (offsets are added on use).
    static func convertDictionary(_ page: UnsafeRawPointer, count: Int, type: ParquetPhysicalType, target: ParquetTarget,
                                  into out: UnsafeMutableRawPointer) {
        switch target {
        case .floats:
            out.copyMemory(from: page, byteCount: 4 * count)
        case .keys:
            let dst = out.bindMemory(to: Int64.self, capacity: count)
            if type == .int64 {
                for i in 0 ..< count { dst[i] = Int64(littleEndian: page.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
            } else {
                for i in 0 ..< count { dst[i] = Int64(UInt32(littleEndian: page.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            }
        }
    }

    /// Looks `count` indices up in the dictionary, into the target.
    static func gather(_ indices: UnsafeMutablePointer<UInt32>, count: Int, dictionary: UnsafeMutableRawPointer,
                       dictionaryCount: Int, target: ParquetTarget, context: ParquetChunkContext, offset: Int) throws {
        var largest: UInt32 = 0
        for i in 0 ..< count { largest = max(largest, indices[i]) }
        guard count == 0 || Int(largest) < dictionaryCount else {
            throw DataError(file: context.file, offset: offset, "column '\(context.column)': a dictionary index is out of range",
                            expected: "< \(dictionaryCount) (the dictionary's size)", found: "\(largest)",
                            fix: "The file is corrupt; rewrite it.")
        }
        switch target {
        case .floats(let out):
            out.reserve(count)
            let src = dictionary.assumingMemoryBound(to: Float.self), dst = out.base + out.count
            for i in 0 ..< count { dst[i] = src[Int(indices[i])] }
            out.appendedUnchecked(count)
        case .keys(let out, let offset, let limit):
            out.reserve(count)
            let src = dictionary.assumingMemoryBound(to: Int64.self), dst = out.base + out.count
            var over = false
            for i in 0 ..< count {
                let raw = src[Int(indices[i])]
                over = over || raw > limit
                dst[i] = raw &+ offset
            }
            if over {
                let raw = (0 ..< count).map { src[Int(indices[$0])] }.first { $0 > limit }!
                throw keyOverflow(raw, context: context, offset: offset)
            }
            out.appendedUnchecked(count)
        }
    }

    /// Decodes `count` values of `bitWidth` bits from the RLE/bit-packing hybrid at
    /// `source[0 ..< length]`; returns the bytes consumed, or nil when the runs are malformed or
    /// end too early. `source` must have 8 readable bytes past `length`.
    static func decodeHybrid(_ source: UnsafeRawPointer, length: Int, bitWidth: Int, count: Int,
                             into out: UnsafeMutablePointer<UInt32>) -> Int? {
        guard bitWidth >= 0, bitWidth <= 32 else { return nil }
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        let byteWidth = (bitWidth + 7) / 8
        let mask: UInt64 = (1 << UInt64(bitWidth)) - 1
        var pos = 0
        var n = 0
        while n < count {
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard pos < length, shift < 35 else { return nil }
                let b = bytes[pos]
                pos += 1
                header |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
            }
            let runs = Int(header >> 1)
            if header & 1 == 0 {
                guard length - pos >= byteWidth else { return nil }
                var value: UInt32 = 0
                for k in 0 ..< byteWidth { value |= UInt32(bytes[pos + k]) << UInt32(8 * k) }
                pos += byteWidth
                let take = min(runs, count - n)
                (out + n).update(repeating: value, count: take)
                n += take
            } else {
                let runBytes = runs * bitWidth
                guard runBytes <= length - pos else { return nil }
                let take = min(runs * 8, count - n)
                let run = source + pos
                var bit = 0
                for i in 0 ..< take {
                    let word = run.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self)
                    out[n + i] = UInt32(truncatingIfNeeded: (UInt64(littleEndian: word) >> UInt64(bit & 7)) & mask)
                    bit += bitWidth
                }
                pos += runBytes
                n += take
            }
        }
        return pos
    }
}

extension ParquetTarget {
    var count: Int {
        switch self {
        case .floats(let c): c.count
        case .keys(let c, _, _): c.count
        }
    }
}
