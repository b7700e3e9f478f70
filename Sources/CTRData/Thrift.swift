/// Thrift compact-protocol field and element types, as Parquet's footer and page headers use them.
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
    case binary = 8, list = 9, set = 10, map = 11, structure = 12
}

/// Reads Thrift compact-protocol values from a byte range it never leaves: every length, count
/// and nesting level read from the data is checked before it is used, so a corrupt footer or page
/// header is a `DataError` naming the file and byte offset.
///
/// ```swift
/// var r = ThriftReader(bytes, file: "part_0.parquet", fileOffset: 1234)
/// try r.readStruct { r, id, type in id == 3 ? (numRows = try r.readI64(type)) != nil : false }
/// ```
struct ThriftReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    /// Where `bytes` starts in the file, for error offsets.
    let fileOffset: Int
    private(set) var position = 0
    private var depth = 0

    /// Deeper nesting than this is corruption: Parquet's own structures nest at most five levels.
    private static let maxDepth = 32

    init(_ bytes: UnsafeRawBufferPointer, file: String, fileOffset: Int) {
        self.bytes = bytes
        self.file = file
        self.fileOffset = fileOffset
    }

    func error(_ problem: String, found: String? = nil) -> DataError {
        DataError(file: file, offset: fileOffset + position, "malformed Parquet metadata: \(problem)", found: found,
                  fix: "The file is corrupt or not a Parquet file; rewrite it (for example with pyarrow.parquet.write_table).")
    }

    // MARK: primitives

    private mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw error("the metadata ends in the middle of a value") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw error("a varint is longer than 10 bytes") }
        }
    }

    private mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    /// An integer field of type byte, i16, i32 or i64, whatever width the writer chose.
    mutating func readInt(_ type: ThriftType) throws -> Int64 {
        switch type {
        case .byte: return Int64(Int8(bitPattern: try byte()))
        case .i16, .i32, .i64: return try zigzag()
        default: throw error("expected an integer field", found: "type \(type)")
        }
    }

    mutating func readI32(_ type: ThriftType) throws -> Int32 {
        let v = try readInt(type)
        guard let narrow = Int32(exactly: v) else { throw error("an i32 field is out of range", found: "\(v)") }
        return narrow
    }

    mutating func readBool(_ type: ThriftType) throws -> Bool {
        switch type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw error("expected a bool field", found: "type \(type)")
        }
    }

    mutating func readBinary(_ type: ThriftType) throws -> UnsafeRawBufferPointer {
        guard type == .binary else { throw error("expected a string field", found: "type \(type)") }
        let length = try varint()
        guard length <= UInt64(bytes.count - position) else {
            throw error("a string runs past the end of the metadata", found: "length \(length)")
        }
        defer { position += Int(length) }
        return UnsafeRawBufferPointer(rebasing: bytes[position ..< position + Int(length)])
    }

    mutating func readString(_ type: ThriftType) throws -> String {
        String(decoding: try readBinary(type), as: UTF8.self)
    }

    // MARK: containers

    private mutating func elementType(_ raw: UInt8) throws -> ThriftType {
        guard let t = ThriftType(rawValue: raw), t != .stop else { throw error("unknown element type \(raw)") }
        // Inside lists, booleans are whole bytes whichever of the two codes the writer used.
        return t == .boolFalse ? .boolTrue : t
    }

    /// Reads a list (or set) header and calls `element` once per element with its type.
    mutating func readList(_ type: ThriftType, _ element: (inout ThriftReader, ThriftType) throws -> Void) throws {
        guard type == .list || type == .set else { throw error("expected a list field", found: "type \(type)") }
        let header = try byte()
        var count = UInt64(header >> 4)
        if count == 15 { count = try varint() }
        let t = try elementType(header & 0x0F)
        // Every element takes at least one byte, so a larger count is corruption.
        guard count <= UInt64(bytes.count - position) else { throw error("a list claims \(count) elements, more than the bytes left") }
        try nested {
            for _ in 0 ..< Int(count) { try element(&$0, t) }
        }
    }

    /// Reads a struct: `field` gets each field's id and type and returns whether it consumed the
    /// value; unconsumed (unknown) fields are skipped.
    mutating func readStruct(_ field: (inout ThriftReader, Int, ThriftType) throws -> Bool) throws {
        try nested {
            var lastID = 0
            while true {
                let header = try $0.byte()
                if header == 0 { return }
                guard let type = ThriftType(rawValue: header & 0x0F) else { throw $0.error("unknown field type \(header & 0x0F)") }
                let delta = Int(header >> 4)
                let id = delta == 0 ? Int(try $0.zigzag()) : lastID + delta
                lastID = id
                if try !field(&$0, id, type) { try $0.skip(type) }
            }
        }
    }

    private mutating func nested(_ body: (inout ThriftReader) throws -> Void) throws {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("values nest deeper than \(Self.maxDepth) levels") }
        try body(&self)
        depth -= 1
    }

    /// Passes over one value of `type`.
    mutating func skip(_ type: ThriftType) throws {
        switch type {
        case .stop: throw error("a field has the stop type")
        case .boolTrue, .boolFalse: return
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard bytes.count - position >= 8 else { throw error("a double runs past the end of the metadata") }
            position += 8
        case .binary: _ = try readBinary(type)
        case .list, .set: try readList(type) { r, t in try r.skipElement(t) }
        case .map:
            let count = try varint()
            guard count > 0 else { return }
            let kinds = try byte()
            guard count <= UInt64(bytes.count - position) else { throw error("a map claims \(count) entries, more than the bytes left") }
            let key = try elementType(kinds >> 4), value = try elementType(kinds & 0x0F)
            try nested {
                for _ in 0 ..< Int(count) {
                    try $0.skipElement(key)
                    try $0.skipElement(value)
                }
            }
        case .structure: try readStruct { _, _, _ in false }
        }
    }

    /// Passes over a list or map element (booleans there are one byte).
    private mutating func skipElement(_ type: ThriftType) throws {
        if type == .boolTrue { _ = try byte() } else { try skip(type) }
    }
}

/// Writes Thrift compact-protocol structs into a growing byte array, for Parquet footers and page
/// headers.
///
/// ```swift
/// var w = ThriftWriter()
/// w.beginStruct(); w.field(1, i32: 0); w.endStruct()
/// ```
struct ThriftWriter {
    private(set) var bytes: [UInt8] = []
    private var lastIDs: [Int] = []
    private var lastID = 0

    mutating func beginStruct() {
        lastIDs.append(lastID)
        lastID = 0
    }

    mutating func endStruct() {
        bytes.append(0)
        lastID = lastIDs.removeLast()
    }

    private mutating func header(_ id: Int, _ type: ThriftType) {
        let delta = id - lastID
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta << 4) | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastID = id
    }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func field(_ id: Int, i32 value: Int32) {
        header(id, .i32)
        zigzag(Int64(value))
    }

    mutating func field(_ id: Int, i64 value: Int64) {
        header(id, .i64)
        zigzag(value)
    }

    mutating func field(_ id: Int, byte value: Int8) {
        header(id, .byte)
        bytes.append(UInt8(bitPattern: value))
    }

    mutating func field(_ id: Int, bool value: Bool) {
        header(id, value ? .boolTrue : .boolFalse)
    }

    mutating func field(_ id: Int, string value: String) {
        header(id, .binary)
        let utf8 = Array(value.utf8)
        varint(UInt64(utf8.count))
        bytes += utf8
    }

    /// Starts a struct-valued field; close it with ``endStruct()``.
    mutating func beginField(_ id: Int) {
        header(id, .structure)
        beginStruct()
    }

    /// Starts a list field of `count` elements of `type`; structs in it need ``beginStruct()``.
    mutating func beginList(_ id: Int, of type: ThriftType, count: Int) {
        header(id, .list)
        if count < 15 {
            bytes.append(UInt8(count << 4) | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func element(i32 value: Int32) { zigzag(Int64(value)) }

    /// Appends an already encoded struct as a list element.
    mutating func append(raw: [UInt8]) { bytes += raw }

    mutating func element(string value: String) {
        let utf8 = Array(value.utf8)
        varint(UInt64(utf8.count))
        bytes += utf8
    }
}
