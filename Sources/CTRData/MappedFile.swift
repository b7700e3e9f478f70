import Foundation

/// A whole file mapped read-only into memory (`mmap`), unmapped when the last reference goes.
/// Workers read disjoint ranges of it concurrently; the bytes are never written.
///
/// ```swift
/// let file = try MappedFile(path: "train_data.bin")
/// file.bytes.count             // the file size
/// ```
final class MappedFile: @unchecked Sendable {
    let path: String
    /// The file's bytes; empty for an empty file (nothing is mapped then).
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw DataError(file: path, exists ? "the data file cannot be opened: \(String(cString: strerror(errno)))"
                                : "the data file does not exist",
                            fix: exists ? "Check the file's permissions." : "Check source / eval_source, or generate the dataset first.")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw DataError(file: path, "not a regular file", fix: "Give the path of the binary data file itself.")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw DataError(file: path, "cannot map the file into memory: \(String(cString: strerror(errno)))",
                            fix: "Check free address space and the file system (mmap must be supported).")
        }
        // The readers walk the file front to back in batch-sized runs.
        _ = madvise(base, size, MADV_SEQUENTIAL)
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
