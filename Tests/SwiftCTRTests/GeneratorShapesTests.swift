import CTRData
import Foundation
import Testing
@testable import SwiftCTR

@Suite("Generator shapes: several labels, several sparse inputs, DIN sequences")
struct GeneratorShapesTests {
    /// A fresh folder under the temporary directory; the caller removes it.
    static func scratch(_ name: String = #function) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gen-shapes-\(name.filter(\.isLetter))-\(UUID().uuidString)").path
    }

    /// FNV-1a 64 over every file of `folder`, in sorted relative-path order, names included.
    static func hash(_ folder: String) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        let names = try FileManager.default.subpathsOfDirectory(atPath: folder).sorted()
        for name in names {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            mix(Array(name.utf8))
            mix(FileManager.default.contents(atPath: folder + "/" + name) ?? Data())
        }
        return String(h, radix: 16)
    }

    /// A small default dataset in each format: the default slot sizes, seed, files and signal.
    static func smallDefault(_ format: SyntheticFormat) -> SyntheticConfig {
        var config = SyntheticConfig.default
        config.numTrain = 3_000
        config.numEval = 1_000
        config.format = format
        config.rowGroupSize = 500
        return config
    }

    // The hashes were printed by this test, run against the generator of commit d8ced03 (before
    // the label, sparse-input and sequence options existed), and pasted here.
    @Test("the default config's bytes are those of the generator before the shape options", arguments: [
        (SyntheticFormat.norm, "1dcc873c9a13ab57"), (.raw, "9987fc7769ecf8c1"), (.parquet, "79526510866636a3"),
    ])
    func defaultBytesUnchanged(format: SyntheticFormat, expected: String) throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try SyntheticGenerator.generate(Self.smallDefault(format), into: folder)
        let found = try Self.hash(folder)
        #expect(found == expected, "\(format.rawValue)")
    }
}
