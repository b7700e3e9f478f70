#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of one Parquet file, read at offsets: a file descriptor (`pread`) or bytes in memory
/// (tests and fuzzing). Every read is checked against the size.
final class ParquetSource {
    let path: String
    let size: Int
    /// The end of the column data: the start of the footer (the file minus footer, its length and "PAR1").
    var dataEnd: Int
    private let descriptor: Int32
    private let memory: [UInt8]

    init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw DataError(file: path, "the data file cannot be opened: \(reason)",
                            fix: errno == ENOENT ? "Fix the file list or regenerate the dataset." : "Check the file's permissions.")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw DataError(file: path, "the data file cannot be examined (fstat)", fix: "Check the file's permissions.")
        }
        self.path = path
        descriptor = fd
        size = Int(info.st_size)
        dataEnd = size
        memory = []
    }

    init(bytes: [UInt8], name: String) {
        path = name
        descriptor = -1
        memory = bytes
        size = bytes.count
        dataEnd = size
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Copies `count` bytes at `offset` to `destination`.
    func read(at offset: Int, count: Int, into destination: UnsafeMutableRawPointer) throws {
        guard offset >= 0, count >= 0, offset <= size - count else {
            throw DataError(file: path, offset: offset, "a read runs past the end of the file",
                            expected: "at most \(size) bytes", found: "\(count) bytes at offset \(offset)",
                            fix: "The file is truncated or corrupt; rewrite it.")
        }
        guard descriptor >= 0 else {
            memory.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            return
        }
        var done = 0
        while done < count {
            let n = pread(descriptor, destination + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw DataError(file: path, offset: offset + done, "read failed: " + (n < 0 ? String(cString: strerror(errno)) : "the file ended early"),
                                fix: "Check the disk and the file's permissions.")
            }
            done += n
        }
    }
}
