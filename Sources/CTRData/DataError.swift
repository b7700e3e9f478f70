import Foundation

/// A problem with a data file, a file list or a data configuration. The message names the file
/// (and byte offset when known), what was expected, what was found, and how to fix it.
///
/// ```swift
/// throw DataError(file: "a.bin", offset: 8, "header number_of_records is negative",
///                 expected: "≥ 0", found: "-3", fix: "Regenerate the file.")
/// ```
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String?
    public let offset: Int?
    public let message: String

    public init(file: String? = nil, offset: Int? = nil, _ problem: String,
                expected: String? = nil, found: String? = nil, fix: String? = nil) {
        self.file = file
        self.offset = offset
        var text = problem
        if let expected { text += "; expected \(expected)" }
        if let found { text += (expected == nil ? "; found " : ", found ") + found }
        if let fix { text += ". Fix: \(fix)" }
        self.message = text
    }

    public var description: String {
        var location = ""
        if let file { location = "'\(file)'" }
        if let offset { location += location.isEmpty ? "byte offset \(offset)" : " at byte offset \(offset)" }
        return "data error: " + (location.isEmpty ? "" : location + ": ") + message
    }
}

/// Closes a data file written under `tmpPath` and moves it to `path`, so a reader never sees a
/// half-written file (the writers' last step).
func closeAndMoveIntoPlace(_ handle: FileHandle, from tmpPath: String, to path: String) throws {
    do {
        try handle.close()
    } catch {
        throw DataError(file: tmpPath, "cannot close the file: \(error)", fix: "Check free disk space.")
    }
    try moveIntoPlace(from: tmpPath, to: path)
}

/// Renames the finished `tmpPath` to `path`.
func moveIntoPlace(from tmpPath: String, to path: String) throws {
    guard rename(tmpPath, path) == 0 else {
        throw DataError(file: path, "cannot move '\(tmpPath)' into place: \(String(cString: strerror(errno)))",
                        fix: "Check that the folder is writable.")
    }
}
