import Foundation

/// The HugeCTR file-list text file: the number of files `N` on the first line, then `N` paths.
///
/// A relative path is taken relative to the working directory, as HugeCTR does; when no file
/// exists there, it is taken relative to the list file's own folder instead. This deliberate
/// convenience lets a dataset folder list its files as `train/part_0.bin` and be used from anywhere.
///
/// ```swift
/// try FileList.write(["train/part_0.bin", "train/part_1.bin"], to: "data/train_list.txt")
/// let files = try FileList.read("data/train_list.txt")   // resolved, existing paths
/// ```
public enum FileList {
    /// The listed paths, resolved; throws unless the list is well formed and every file exists.
    public static func read(_ path: String) throws -> [String] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw DataError(file: path, "file list not found",
                            fix: "Check the path (relative paths start at \(fm.currentDirectoryPath)), or generate the dataset first.")
        }
        guard let bytes = fm.contents(atPath: path) else {
            throw DataError(file: path, "the file list cannot be read", fix: "Check the file's permissions.")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first, let count = Int(first) else {
            throw DataError(file: path, offset: 0, "the first line of a file list must be the number of files",
                            expected: "an integer", found: lines.first.map { "'\($0.prefix(40))'" } ?? "an empty file",
                            fix: "Put the number of data files on line 1 and one path per line after it.")
        }
        guard count > 0 else {
            throw DataError(file: path, "no data file in the file list", expected: "N ≥ 1 on line 1", found: "\(count)",
                            fix: "List at least one data file.")
        }
        guard lines.count - 1 >= count else {
            throw DataError(file: path, "the file list announces \(count) files but has only \(lines.count - 1) path lines",
                            fix: "Set line 1 to \(lines.count - 1) or add the missing paths.")
        }
        let listFolder = (path as NSString).deletingLastPathComponent
        var result: [String] = []
        result.reserveCapacity(count)
        for (index, entry) in lines[1...count].enumerated() {
            guard !entry.isEmpty else {
                throw DataError(file: path, "line \(index + 2) of the file list is empty",
                                expected: "a data file path", fix: "Remove the blank line or lower N on line 1.")
            }
            if fm.fileExists(atPath: entry) {
                result.append(entry)
                continue
            }
            let besideList = listFolder.isEmpty ? entry : (listFolder as NSString).appendingPathComponent(entry)
            guard !entry.hasPrefix("/"), fm.fileExists(atPath: besideList) else {
                throw DataError(file: path, "data file '\(entry)' (line \(index + 2)) does not exist",
                                fix: "Relative paths are tried from the working directory and from the list's folder; fix the path or regenerate the dataset.")
            }
            result.append(besideList)
        }
        return result
    }

    /// Writes a file list; the paths are stored verbatim.
    public static func write(_ paths: [String], to path: String) throws {
        guard !paths.isEmpty else {
            throw DataError(file: path, "refusing to write an empty file list", fix: "Pass at least one data file path.")
        }
        if let bad = paths.first(where: { $0.isEmpty || $0.contains("\n") }) {
            throw DataError(file: path, "a file list path must be non-empty and on one line", found: "'\(bad)'")
        }
        let text = "\(paths.count)\n" + paths.map { $0 + "\n" }.joined()
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw DataError(file: path, "cannot write the file list: \(error)", fix: "Check that the folder exists and is writable.")
        }
    }
}
