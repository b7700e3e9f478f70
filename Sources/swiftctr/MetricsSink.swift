import Foundation
import SwiftCTR

/// Appends JSON lines to a file.
final class MetricsSink {
    let handle: FileHandle
    let encoder = JSONEncoder()

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw SwiftCTRError(.io, "cannot write --metrics-out file '\(path)'; check that its folder exists and is writable.")
        }
        self.handle = handle
        encoder.outputFormatting = [.sortedKeys]
    }

    func write(_ record: TrainingRecord) {
        guard let data = try? encoder.encode(record) else { return }
        handle.write(data + Data("\n".utf8))
    }
}
