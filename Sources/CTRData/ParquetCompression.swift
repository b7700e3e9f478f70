#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Parquet column-chunk codec (`CompressionCodec` in the format's Thrift file). SwiftCTR reads
/// and writes UNCOMPRESSED, SNAPPY and ZSTD; the two libraries are loaded at run time, the first
/// time a file needs them, so the package builds and runs without them.
///
/// ```swift
/// let w = try ParquetWriter(path: "part_0.parquet", columns: columns, compression: .snappy)
/// ```
public enum ParquetCompression: Int32, Sendable, CaseIterable {
    case uncompressed = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7

    /// The codec's name as Parquet and pyarrow spell it.
    public var name: String {
        switch self {
        case .uncompressed: "UNCOMPRESSED"
        case .snappy: "SNAPPY"
        case .gzip: "GZIP"
        case .lzo: "LZO"
        case .brotli: "BROTLI"
        case .lz4: "LZ4"
        case .zstd: "ZSTD"
        case .lz4Raw: "LZ4_RAW"
        }
    }

    /// The codec named `name` (any case: `none`, `snappy`, `zstd`), among those SwiftCTR writes.
    public init?(writing name: String) {
        switch name.lowercased() {
        case "none", "uncompressed": self = .uncompressed
        case "snappy": self = .snappy
        case "zstd": self = .zstd
        default: return nil
        }
    }
}

/// The C entry points of libsnappy and libzstd, resolved once per process.
struct CompressionLibrary: @unchecked Sendable {
    // snappy-c.h: snappy_status snappy_uncompress(const char *compressed, size_t compressed_length,
    //   char *uncompressed, size_t *uncompressed_length); snappy_status is an int enum, 0 = SNAPPY_OK.
    typealias SnappyUncompress = @convention(c) (UnsafeRawPointer?, Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> Int32
    // snappy_status snappy_compress(const char *input, size_t input_length, char *compressed, size_t *compressed_length)
    typealias SnappyCompress = SnappyUncompress
    // snappy_status snappy_uncompressed_length(const char *compressed, size_t compressed_length, size_t *result)
    typealias SnappyLength = @convention(c) (UnsafeRawPointer?, Int, UnsafeMutablePointer<Int>?) -> Int32
    // size_t snappy_max_compressed_length(size_t source_length)
    typealias SnappyBound = @convention(c) (Int) -> Int
    // zstd.h: size_t ZSTD_decompress(void *dst, size_t dstCapacity, const void *src, size_t compressedSize)
    typealias ZstdDecompress = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int) -> Int
    // size_t ZSTD_compress(void *dst, size_t dstCapacity, const void *src, size_t srcSize, int compressionLevel)
    typealias ZstdCompress = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int, Int32) -> Int
    // unsigned ZSTD_isError(size_t code); size_t ZSTD_compressBound(size_t srcSize)
    typealias ZstdIsError = @convention(c) (Int) -> UInt32
    typealias ZstdBound = @convention(c) (Int) -> Int
    // unsigned long long ZSTD_getFrameContentSize(const void *src, size_t srcSize): the size, or
    // ZSTD_CONTENTSIZE_UNKNOWN (-1) / ZSTD_CONTENTSIZE_ERROR (-2)
    typealias ZstdContentSize = @convention(c) (UnsafeRawPointer?, Int) -> UInt64

    struct Snappy {
        let uncompress: SnappyUncompress
        let compress: SnappyCompress
        let length: SnappyLength
        let bound: SnappyBound
    }

    struct Zstd {
        let decompress: ZstdDecompress
        let compress: ZstdCompress
        let isError: ZstdIsError
        let bound: ZstdBound
        let contentSize: ZstdContentSize
    }

    static let snappy: Snappy? = {
        guard let h = open(["libsnappy.so.1", "libsnappy.so", "libsnappy.dylib"]),
              let u = dlsym(h, "snappy_uncompress"), let c = dlsym(h, "snappy_compress"),
              let l = dlsym(h, "snappy_uncompressed_length"), let b = dlsym(h, "snappy_max_compressed_length") else { return nil }
        return Snappy(uncompress: unsafeBitCast(u, to: SnappyUncompress.self), compress: unsafeBitCast(c, to: SnappyCompress.self),
                      length: unsafeBitCast(l, to: SnappyLength.self), bound: unsafeBitCast(b, to: SnappyBound.self))
    }()

    static let zstd: Zstd? = {
        guard let h = open(["libzstd.so.1", "libzstd.so", "libzstd.dylib"]),
              let d = dlsym(h, "ZSTD_decompress"), let c = dlsym(h, "ZSTD_compress"),
              let e = dlsym(h, "ZSTD_isError"), let b = dlsym(h, "ZSTD_compressBound"),
              let f = dlsym(h, "ZSTD_getFrameContentSize") else { return nil }
        return Zstd(decompress: unsafeBitCast(d, to: ZstdDecompress.self), compress: unsafeBitCast(c, to: ZstdCompress.self),
                    isError: unsafeBitCast(e, to: ZstdIsError.self), bound: unsafeBitCast(b, to: ZstdBound.self),
                    contentSize: unsafeBitCast(f, to: ZstdContentSize.self))
    }()

    private static func open(_ names: [String]) -> UnsafeMutableRawPointer? {
        for name in names { if let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) { return h } }
        return nil
    }

    static func missing(_ codec: ParquetCompression, file: String?) -> DataError {
        let (library, package) = codec == .snappy ? ("libsnappy.so.1", "libsnappy1v5") : ("libzstd.so.1", "libzstd1")
        return DataError(file: file, "\(codec.name) compression needs \(library), which cannot be loaded",
                         fix: "Install the Debian package \(package) (apt-get install \(package)), or write the data uncompressed.")
    }

    /// Decompresses `count` bytes at `source` into exactly `expected` bytes at `buffer(expected)`;
    /// the buffer is asked for only once the stream's own size (where it records one) agrees.
    static func decompress(_ codec: ParquetCompression, _ source: UnsafeRawPointer, count: Int,
                           into buffer: (Int) -> UnsafeMutableRawPointer, expected: Int, file: String, offset: Int) throws {
        func corrupt(_ detail: String) -> DataError {
            DataError(file: file, offset: offset, "a \(codec.name) page does not decompress: \(detail)",
                      expected: "\(expected) bytes (the page header's uncompressed_page_size)",
                      fix: "The file is corrupt; rewrite it.")
        }
        switch codec {
        case .uncompressed:
            guard count == expected else { throw corrupt("its stored size is \(count)") }
            buffer(expected).copyMemory(from: source, byteCount: count)
        case .snappy:
            guard let snappy else { throw missing(codec, file: file) }
            var length = 0
            guard snappy.length(source, count, &length) == 0, length == expected else { throw corrupt("its header gives \(length) bytes") }
            let status = snappy.uncompress(source, count, buffer(expected), &length)
            guard status == 0 else { throw corrupt("snappy status \(status)") }
            guard length == expected else { throw corrupt("it holds \(length) bytes") }
        case .zstd:
            guard let zstd else { throw missing(codec, file: file) }
            let declared = zstd.contentSize(source, count)
            // The first frame's size: never more than the page (a page may hold several frames).
            guard declared <= UInt64(expected) || declared >= UInt64.max - 1 else { throw corrupt("its frame header gives \(Int64(bitPattern: declared)) bytes") }
            let length = zstd.decompress(buffer(expected), expected, source, count)
            guard zstd.isError(length) == 0 else { throw corrupt("zstd error code \(-length)") }
            guard length == expected else { throw corrupt("it holds \(length) bytes") }
        case .gzip, .lzo, .brotli, .lz4, .lz4Raw:
            throw DataError(file: file, offset: offset, "the column chunk is compressed with \(codec.name), which SwiftCTR does not read",
                            expected: "UNCOMPRESSED, SNAPPY or ZSTD",
                            fix: "Rewrite the file with compression='snappy' or 'zstd' (pyarrow.parquet.write_table).")
        }
    }

    /// `source` compressed with `codec` (uncompressed, snappy or zstd).
    static func compress(_ codec: ParquetCompression, _ source: [UInt8], file: String) throws -> [UInt8] {
        switch codec {
        case .snappy:
            guard let snappy else { throw missing(codec, file: file) }
            var out = [UInt8](repeating: 0, count: snappy.bound(source.count))
            var length = out.count
            let status = source.withUnsafeBytes { s in out.withUnsafeMutableBytes { snappy.compress(s.baseAddress, s.count, $0.baseAddress, &length) } }
            guard status == 0 else { throw DataError(file: file, "snappy compression failed with status \(status)") }
            return Array(out.prefix(length))
        case .zstd:
            guard let zstd else { throw missing(codec, file: file) }
            var out = [UInt8](repeating: 0, count: zstd.bound(source.count))
            let length = source.withUnsafeBytes { s in out.withUnsafeMutableBytes { zstd.compress($0.baseAddress, $0.count, s.baseAddress, s.count, 3) } }
            guard zstd.isError(length) == 0 else { throw DataError(file: file, "zstd compression failed with code \(-length)") }
            return Array(out.prefix(length))
        default:
            return source
        }
    }
}
