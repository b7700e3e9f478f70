/// Parquet physical types (`Type` in the format's Thrift file).
enum ParquetPhysicalType: Int32 {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7

    var name: String {
        switch self {
        case .boolean: "BOOLEAN"
        case .int32: "INT32"
        case .int64: "INT64"
        case .int96: "INT96"
        case .float: "FLOAT"
        case .double: "DOUBLE"
        case .byteArray: "BYTE_ARRAY"
        case .fixedLenByteArray: "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

/// One leaf column of a Parquet schema with what decoding its pages needs: the physical type,
/// the maximum repetition and definition levels, and which top-level field it belongs to.
struct ParquetLeaf {
    var name: String
    var type: ParquetPhysicalType
    /// Bits of the integer logical type (8, 16, 32, 64) when the schema gives one.
    var integerBits: Int?
    var maxDefinition: Int
    var maxRepetition: Int
    /// The definition level at which the repeated (list) node is present; a level one lower is an
    /// empty list, anything lower a null list.
    var repeatedDefinition: Int
    var field: Int
}

/// One column chunk's place in the file (`ColumnMetaData`).
struct ParquetChunk {
    var type: Int32
    var codec: Int32
    var numValues: Int64
    var start: Int64
    var compressedSize: Int64
}

/// The footer (`FileMetaData`) of a Parquet file: its schema reduced to leaf columns and the row
/// groups' column chunks.
///
/// ```swift
/// let footer = try ParquetFooter(parsing: bytes, file: path, fileOffset: offset)
/// footer.rowGroups[0].numRows
/// ```
struct ParquetFooter {
    struct RowGroup {
        var numRows: Int
        var chunks: [ParquetChunk]
    }

    var numRows = 0
    var leaves: [ParquetLeaf] = []
    /// Names of the top-level fields (the columns `_metadata.json` indexes).
    var fields: [String] = []
    var rowGroups: [RowGroup] = []

    private struct SchemaElement {
        var type: Int32?
        var repetition: Int32 = 0
        var name = ""
        var numChildren: Int32?
        var convertedType: Int32?
        var logicalBits: Int?
    }

    init(parsing bytes: UnsafeRawBufferPointer, file: String, fileOffset: Int) throws {
        var r = ThriftReader(bytes, file: file, fileOffset: fileOffset)
        var schema: [SchemaElement] = []
        var numRows: Int64?
        var groups: [RowGroup] = []
        try r.readStruct { r, id, type in
            switch id {
            case 2: try r.readList(type) { r, t in schema.append(try Self.schemaElement(&r, t)) }
            case 3: numRows = try r.readInt(type)
            case 4: try r.readList(type) { r, t in groups.append(try Self.rowGroup(&r, t)) }
            default: return false
            }
            return true
        }
        guard let numRows, numRows >= 0, numRows <= Int64(Int32.max) * 1024 else {
            throw r.error("FileMetaData.num_rows is missing or out of range", found: numRows.map { "\($0)" })
        }
        self.numRows = Int(numRows)
        rowGroups = groups
        try buildLeaves(schema, r)
        var total = 0
        for group in groups {
            guard group.chunks.count == leaves.count else {
                throw r.error("a row group has \(group.chunks.count) column chunks for \(leaves.count) schema columns")
            }
            total += group.numRows
        }
        guard total == self.numRows else { throw r.error("the row groups hold \(total) rows, the footer says \(numRows)") }
    }

    private static func schemaElement(_ r: inout ThriftReader, _ type: ThriftType) throws -> SchemaElement {
        guard type == .structure else { throw r.error("a schema element is not a struct") }
        var e = SchemaElement()
        try r.readStruct { r, id, type in
            switch id {
            case 1: e.type = try r.readI32(type)
            case 3: e.repetition = try r.readI32(type)
            case 4: e.name = try r.readString(type)
            case 5: e.numChildren = try r.readI32(type)
            case 6: e.convertedType = try r.readI32(type)
            case 10:
                // LogicalType is a union; field 10 is IntType { 1: bitWidth byte, 2: isSigned bool }.
                try r.readStruct { r, id, type in
                    guard id == 10 else { return false }
                    try r.readStruct { r, id, type in
                        guard id == 1 else { return false }
                        e.logicalBits = Int(try r.readInt(type))
                        return true
                    }
                    return true
                }
            default: return false
            }
            return true
        }
        return e
    }

    private static func rowGroup(_ r: inout ThriftReader, _ type: ThriftType) throws -> RowGroup {
        guard type == .structure else { throw r.error("a row group is not a struct") }
        var chunks: [ParquetChunk] = []
        var numRows: Int64 = -1
        try r.readStruct { r, id, type in
            switch id {
            case 1: try r.readList(type) { r, t in chunks.append(try Self.columnChunk(&r, t)) }
            case 3: numRows = try r.readInt(type)
            default: return false
            }
            return true
        }
        guard numRows >= 0, numRows <= Int64(Int32.max) else { throw r.error("RowGroup.num_rows is missing or out of range", found: "\(numRows)") }
        return RowGroup(numRows: Int(numRows), chunks: chunks)
    }

    private static func columnChunk(_ r: inout ThriftReader, _ type: ThriftType) throws -> ParquetChunk {
        guard type == .structure else { throw r.error("a column chunk is not a struct") }
        var meta: (type: Int32, codec: Int32, values: Int64, size: Int64, data: Int64, dictionary: Int64?)?
        var external = false
        try r.readStruct { r, id, type in
            switch id {
            case 1: external = !(try r.readBinary(type)).isEmpty
            case 3:
                var t: Int32 = -1, codec: Int32 = -1, values: Int64 = -1, size: Int64 = -1, data: Int64 = -1
                var dictionary: Int64?
                try r.readStruct { r, id, type in
                    switch id {
                    case 1: t = try r.readI32(type)
                    case 4: codec = try r.readI32(type)
                    case 5: values = try r.readInt(type)
                    case 7: size = try r.readInt(type)
                    case 9: data = try r.readInt(type)
                    case 11: dictionary = try r.readInt(type)
                    default: return false
                    }
                    return true
                }
                meta = (t, codec, values, size, data, dictionary)
            default: return false
            }
            return true
        }
        guard !external else {
            throw r.error("a column chunk lives in another file (ColumnChunk.file_path); SwiftCTR reads self-contained files only")
        }
        guard let meta, meta.values >= 0, meta.size >= 0, meta.data >= 0 else {
            throw r.error("a column chunk has no ColumnMetaData, or negative sizes or offsets")
        }
        // Some writers store dictionary_page_offset 0 for "none"; a dictionary comes before the data.
        let start = meta.dictionary.flatMap { $0 > 0 && $0 < meta.data ? $0 : nil } ?? meta.data
        return ParquetChunk(type: meta.type, codec: meta.codec, numValues: meta.values, start: start, compressedSize: meta.size)
    }

    /// Walks the depth-first schema list, computing each leaf's levels and top-level field.
    private mutating func buildLeaves(_ schema: [SchemaElement], _ r: ThriftReader) throws {
        guard let root = schema.first else { throw r.error("the schema is empty") }
        var index = 1
        func walk(_ children: Int, path: String, definition: Int, repetition: Int, repeatedDefinition: Int, field: Int?) throws {
            for _ in 0 ..< children {
                guard index < schema.count else { throw r.error("the schema's num_children run past its \(schema.count) elements") }
                let e = schema[index]
                index += 1
                let f = field ?? fields.count
                if field == nil { fields.append(e.name) }
                let optional = e.repetition == 1, repeated = e.repetition == 2
                guard (0 ... 2).contains(e.repetition) else { throw r.error("schema element '\(e.name)' has repetition type \(e.repetition)") }
                let d = definition + (optional || repeated ? 1 : 0)
                let rep = repetition + (repeated ? 1 : 0)
                let name = path.isEmpty ? e.name : path + "." + e.name
                if let n = e.numChildren, n > 0 || e.type == nil {
                    guard n >= 0, n <= schema.count - index else { throw r.error("schema element '\(e.name)' claims \(n) children") }
                    try walk(Int(n), path: name, definition: d, repetition: rep, repeatedDefinition: repeated ? d : repeatedDefinition, field: f)
                } else {
                    guard let raw = e.type, let type = ParquetPhysicalType(rawValue: raw) else {
                        throw r.error("leaf column '\(name)' has no known physical type", found: e.type.map { "\($0)" })
                    }
                    // ConvertedType INT_8/16/32/64 are 15...18, UINT_8/16/32/64 are 11...14.
                    let converted: Int? = e.convertedType.flatMap { c in
                        (11 ... 18).contains(c) ? [8, 16, 32, 64][Int((c - 11) % 4)] : nil
                    }
                    leaves.append(ParquetLeaf(name: name, type: type, integerBits: e.logicalBits ?? converted,
                                              maxDefinition: d, maxRepetition: rep,
                                              repeatedDefinition: repeated ? d : repeatedDefinition, field: f))
                }
            }
        }
        try walk(Int(max(root.numChildren ?? 0, 0)), path: "", definition: 0, repetition: 0, repeatedDefinition: 0, field: nil)
        guard index == schema.count else { throw r.error("the schema has \(schema.count - index) elements outside the tree its num_children describe") }
    }
}

/// A Parquet page header (`PageHeader` with its data, dictionary or v2 data header).
struct ParquetPageHeader {
    enum Kind: Int32 { case data = 0, index = 1, dictionary = 2, dataV2 = 3 }
    var kind: Kind
    var uncompressedSize: Int
    var compressedSize: Int
    var numValues = 0
    var encoding: Int32 = 0
    var definitionBytes = 0
    var repetitionBytes = 0
    var isCompressed = true
    /// A v1 page whose levels use the deprecated BIT_PACKED encoding rather than RLE.
    var bitPackedLevels = false

    init(parsing r: inout ThriftReader) throws {
        var kind: Int32 = -1, uncompressed: Int32 = -1, compressed: Int32 = -1
        var values: Int32 = -1, encoding: Int32 = 0, definition: Int32 = 0, repetition: Int32 = 0, isCompressed = true
        var bitPacked = false
        try r.readStruct { r, id, type in
            switch id {
            case 1: kind = try r.readI32(type)
            case 2: uncompressed = try r.readI32(type)
            case 3: compressed = try r.readI32(type)
            case 5, 7, 8:
                try r.readStruct { r, field, type in
                    switch (id, field) {
                    case (_, 1): values = try r.readI32(type)
                    case (5, 2), (7, 2), (8, 4): encoding = try r.readI32(type)
                    case (8, 5): definition = try r.readI32(type)
                    case (8, 6): repetition = try r.readI32(type)
                    case (8, 7): isCompressed = try r.readBool(type)
                    case (5, 3), (5, 4): if try r.readI32(type) == 4 { bitPacked = true }
                    default: return false
                    }
                    return true
                }
            default: return false
            }
            return true
        }
        guard let k = Kind(rawValue: kind) else { throw r.error("unknown page type", found: "\(kind)") }
        guard uncompressed >= 0, compressed >= 0 else {
            throw r.error("a page header has negative sizes", found: "uncompressed \(uncompressed), compressed \(compressed)")
        }
        guard k == .index || values >= 0 else { throw r.error("a page header has no num_values") }
        guard definition >= 0, repetition >= 0, Int(definition) + Int(repetition) <= Int(min(compressed, uncompressed)) else {
            throw r.error("a v2 page's level lengths exceed the page", found: "\(definition) + \(repetition) bytes")
        }
        self.kind = k
        uncompressedSize = Int(uncompressed)
        compressedSize = Int(compressed)
        numValues = Int(values)
        self.encoding = encoding
        definitionBytes = Int(definition)
        repetitionBytes = Int(repetition)
        self.isCompressed = isCompressed
        bitPackedLevels = bitPacked
    }
}
