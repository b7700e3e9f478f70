import Foundation

/// Reads model files whole, with exact size checks: each error names the file, what it should
/// hold and what it holds.
///
/// ```swift
/// let weights: [Float] = try ModelFileReader.read("dcn_dense_1000.model", what: "dense weights",
///                                                 count: 1_234, unit: "float32 parameters")
/// ```
enum ModelFileReader {
    /// The bytes of `path`; `what` says what the file is for in the message when it is missing.
    static func bytes(_ path: String, what: String) throws -> Data {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw SwiftCTRError(.io, "the \(what) file '\(path)' does not exist. Give the path that save_params_to_files (or a snapshot) wrote.")
        }
        guard !isFolder.boolValue else {
            throw SwiftCTRError(.io, "the \(what) file '\(path)' is a folder, expected a file.")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SwiftCTRError(.io, "cannot read the \(what) file '\(path)': \(error.localizedDescription)")
        }
    }

    /// Exactly `count` values of `T` from `path`; `unit` names them in the size message.
    static func read<T: BitwiseCopyable>(_ path: String, what: String, count: Int, unit: String, fix: String = "") throws -> [T] {
        let data = try bytes(path, what: what)
        let size = MemoryLayout<T>.size
        guard data.count == count * size else {
            let found = data.count % size == 0 ? "\(data.count) bytes (\(data.count / size) \(unit))" : "\(data.count) bytes"
            throw SwiftCTRError(.data, "the \(what) file '\(path)' holds \(found), expected \(count * size) bytes (\(count) \(unit) of \(size) bytes). \(fix.isEmpty ? "The file is truncated or belongs to another model." : fix)")
        }
        return values(data)
    }

    /// All values of `T` in `path`, whose size must be a multiple of `multiple` values.
    static func readAll<T: BitwiseCopyable>(_ path: String, what: String, multiple: Int, unit: String) throws -> [T] {
        let data = try bytes(path, what: what)
        let size = MemoryLayout<T>.size * multiple
        guard data.count % size == 0 else {
            throw SwiftCTRError(.data, "the \(what) file '\(path)' holds \(data.count) bytes, not a multiple of \(size) (\(unit)). The file is truncated or belongs to another model.")
        }
        return values(data)
    }

    private static func values<T: BitwiseCopyable>(_ data: Data) -> [T] {
        let n = data.count / MemoryLayout<T>.size
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            _ = data.copyBytes(to: UnsafeMutableRawBufferPointer(buffer))
            initialized = n
        }
    }
}
