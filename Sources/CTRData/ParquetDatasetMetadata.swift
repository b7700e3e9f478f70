import Foundation

/// HugeCTR's `_metadata.json` beside Parquet data files: each file's row count, and which columns
/// (by 0-based position in the schema) are labels, dense features (`conts`) and slots (`cats`).
///
/// Labels then conts, each sorted by index, make a sample's `[labels…, dense…]`; cats sorted by
/// index are slots 0, 1, …. `col_name` is kept but not used to find a column, as in HugeCTR.
///
/// ```swift
/// let meta = try ParquetDatasetMetadata(folder: "data/train")
/// meta.cats.map(\.index)      // [14, 15, …]
/// ```
public struct ParquetDatasetMetadata: Equatable, Sendable {
    /// One column entry: its name (informational) and 0-based position in the schema.
    public struct Column: Equatable, Sendable {
        public var name: String
        public var index: Int

        public init(name: String, index: Int) {
            self.name = name
            self.index = index
        }
    }

    /// Row counts by file basename.
    public var fileRows: [String: Int]
    public var labels: [Column]
    public var conts: [Column]
    public var cats: [Column]

    /// The metadata's file name, as HugeCTR spells it.
    public static let fileName = "_metadata.json"

    public init(fileRows: [String: Int], labels: [Column], conts: [Column], cats: [Column]) {
        self.fileRows = fileRows
        self.labels = labels.sorted { $0.index < $1.index }
        self.conts = conts.sorted { $0.index < $1.index }
        self.cats = cats.sorted { $0.index < $1.index }
    }

    /// The columns HugeCTR's generator writes, in this order: `label` (or `label0…` for several),
    /// `I1…I<denseDim>`, `C1…C<slots>`.
    public init(fileRows: [String: Int], labels: Int = 1, denseDim: Int, slots: Int) {
        let names = Self.generatorColumnNames(labels: labels, denseDim: denseDim, slots: slots)
        self.init(fileRows: fileRows, labels: names.labels.enumerated().map { .init(name: $1, index: $0) },
                  conts: names.dense.enumerated().map { .init(name: $1, index: labels + $0) },
                  cats: names.slots.enumerated().map { .init(name: $1, index: labels + denseDim + $0) })
    }

    /// The column names of HugeCTR's generator layout (``init(fileRows:labels:denseDim:slots:)``):
    /// one label is `label`, several are `label0…` as `DataGenerator` names them.
    static func generatorColumnNames(labels: Int = 1, denseDim: Int, slots: Int) -> (labels: [String], dense: [String], slots: [String]) {
        (labels == 1 ? ["label"] : (0 ..< labels).map { "label\($0)" }, (0 ..< denseDim).map { "I\($0 + 1)" },
         (0 ..< slots).map { "C\($0 + 1)" })
    }

    /// Reads `_metadata.json` in `folder` (the folder of the first file of a file list).
    public init(folder: String) throws {
        let path = folder.isEmpty ? Self.fileName : (folder as NSString).appendingPathComponent(Self.fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, "the Parquet dataset has no \(Self.fileName) beside its first data file",
                            fix: "Write \(Self.fileName) (file_stats, labels, conts, cats) into the folder of the first file of the file list, as NVTabular does.")
        }
        try self.init(json: data, path: path)
    }

    init(json data: Data, path: String) throws {
        func bad(_ problem: String) -> DataError {
            DataError(file: path, "\(Self.fileName): \(problem)",
                      fix: "Give file_stats [{file_name, num_rows}] and labels, conts, cats [{col_name, index}] as HugeCTR does.")
        }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw bad("the file is not a JSON object")
        }
        func integer(_ value: Any?) -> Int? {
            (value as? NSNumber).flatMap { Int(exactly: $0.doubleValue) }
        }
        func columns(_ key: String) throws -> [Column] {
            guard let value = root[key] else { return [] }
            guard let list = value as? [Any] else { throw bad("'\(key)' is not an array") }
            return try list.enumerated().map { position, entry in
                guard let object = entry as? [String: Any], let index = integer(object["index"]), index >= 0 else {
                    throw bad("entry \(position) of '\(key)' has no non-negative integer 'index'")
                }
                return Column(name: object["col_name"] as? String ?? "", index: index)
            }
        }
        guard let stats = root["file_stats"] as? [Any] else { throw bad("'file_stats' is missing or not an array") }
        var rows: [String: Int] = [:]
        for (position, entry) in stats.enumerated() {
            guard let object = entry as? [String: Any], let name = object["file_name"] as? String,
                  let count = integer(object["num_rows"]), count >= 0 else {
                throw bad("entry \(position) of 'file_stats' needs a string 'file_name' and a non-negative integer 'num_rows'")
            }
            rows[(name as NSString).lastPathComponent] = count
        }
        self.init(fileRows: rows, labels: try columns("labels"), conts: try columns("conts"), cats: try columns("cats"))
        let all = labels + conts + cats
        if let repeated = Dictionary(grouping: all, by: \.index).first(where: { $0.value.count > 1 }) {
            throw bad("column index \(repeated.key) is listed more than once (\(repeated.value.map(\.name)))")
        }
        guard !labels.isEmpty else { throw bad("'labels' is empty") }
    }

    /// Writes the metadata as HugeCTR's `_metadata.json` into `folder`.
    public func write(folder: String) throws {
        func entries(_ columns: [Column]) -> [[String: Any]] { columns.map { ["col_name": $0.name, "index": $0.index] } }
        let root: [String: Any] = [
            "file_stats": fileRows.keys.sorted().map { ["file_name": $0, "num_rows": fileRows[$0]!] },
            "labels": entries(labels), "conts": entries(conts), "cats": entries(cats),
        ]
        let path = (folder as NSString).appendingPathComponent(Self.fileName)
        do {
            let data = try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError(file: path, "cannot write \(Self.fileName): \(error)", fix: "Check that the folder is writable.")
        }
    }
}
