import Foundation

#if canImport(Glibc)
import Glibc
private let posixWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let posixWrite = Darwin.write
#endif

/// Writes model files so that a crash never leaves a half-written one: a file goes to
/// `<path>.swiftctr-tmp`, is fsynced, renamed over `path`, and its folder is fsynced; a folder is
/// built as `<path>.swiftctr-tmp/` the same way and swapped in by renames. A crash leaves at most a
/// temporary beside the target (the next write replaces it), never a partial target.
///
/// ```swift
/// try AtomicFile.write("dcn_dense_1000.model") { sink in try sink.write(weights) }
/// ```
enum AtomicFile {
    static let temporarySuffix = ".swiftctr-tmp"

    /// An open file being written.
    struct Sink {
        let fd: Int32
        let path: String

        func write(_ bytes: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < bytes.count {
                let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw AtomicFile.failure("cannot write", path) }
                done += n
            }
        }

        func write<T: BitwiseCopyable>(_ values: [T]) throws {
            try values.withUnsafeBytes { try write($0) }
        }

        func write(_ text: String) throws {
            try write(Array(text.utf8))
        }
    }

    /// Writes `path` through a temporary: `body` fills it, then fsync, rename, fsync of the folder.
    static func write(_ path: String, _ body: (Sink) throws -> Void) throws {
        let temporary = path + temporarySuffix
        try writeFile(temporary, body)
        guard rename(temporary, path) == 0 else { throw failure("cannot rename '\(temporary)' to", path) }
        try syncFolder(of: path)
    }

    /// Replaces the folder `path` by one holding `files` (name and contents), atomically as seen by
    /// a reader after a crash: the folder is either the old one, the new one, or absent.
    static func writeFolder(_ path: String, files: [(name: String, body: (Sink) throws -> Void)]) throws {
        let temporary = path + temporarySuffix, old = path + ".swiftctr-old"
        try removeTree(temporary)
        guard mkdir(temporary, 0o755) == 0 else { throw failure("cannot create the folder", temporary) }
        for file in files {
            try writeFile(temporary + "/" + file.name, file.body)
        }
        try syncFolder(temporary)
        try removeTree(old)
        if access(path, F_OK) == 0 {
            guard rename(path, old) == 0 else { throw failure("cannot move aside", path) }
        }
        guard rename(temporary, path) == 0 else { throw failure("cannot rename '\(temporary)' to", path) }
        try syncFolder(of: path)
        try removeTree(old)
    }

    /// Removes the file `path` if it exists and makes the removal durable.
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("cannot remove", path) }
        try syncFolder(of: path)
    }

    /// Creates (or truncates) `path`, fills it with `body` and fsyncs it.
    private static func writeFile(_ path: String, _ body: (Sink) throws -> Void) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("cannot create", path) }
        do {
            try body(Sink(fd: fd, path: path))
            guard fsync(fd) == 0 else { throw failure("cannot fsync", path) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        guard close(fd) == 0 else { throw failure("cannot close", path) }
    }

    private static func syncFolder(of path: String) throws {
        let folder = path.folderOfPath
        try syncFolder(folder.isEmpty ? "." : folder)
    }

    private static func syncFolder(_ folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open the folder", folder) }
        defer { close(fd) }
        guard fsync(fd) == 0 || errno == EINVAL else { throw failure("cannot fsync the folder", folder) }
    }

    private static func removeTree(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw SwiftCTRError(.io, "cannot remove the leftover '\(path)': \(error.localizedDescription). Remove it by hand.")
        }
    }

    static func failure(_ what: String, _ path: String) -> SwiftCTRError {
        let reason = String(cString: strerror(errno))
        return SwiftCTRError(.io, "\(what) '\(path)': \(reason). Check that the folder exists, is writable and has free space.")
    }
}
