import Foundation

/// How ``CriteoConverter`` writes a dataset.
///
/// ```swift
/// var options = ConvertOptions()
/// options.format = .raw
/// options.minFrequency = 6      // values seen fewer than 6 times share their slot's key 0
/// ```
public struct ConvertOptions: Sendable, Equatable {
    public var format: SyntheticFormat = .norm
    /// Norm: the check type of the files.
    public var check: CheckType = .sum
    /// int64 keys (`i64_input_key`), else uint32.
    public var i64Keys = false
    /// Raw: float32 labels and dense values (`float_label_dense`), else int32 ones.
    public var floatLabelDense = false
    /// Two passes: a value seen fewer times than this in the training input maps to key 0 of its
    /// slot (as do missing values); the others get ids 1… in ascending value order.
    public var minFrequency = 1
    /// One pass instead: a present value `v` maps to `1 + v mod (hashSize − 1)`, a missing one to 0.
    public var hashSize: Int?
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var chunkBytes = 4 << 20
    /// Norm and Parquet: samples per file (a new file after each this many); nil puts each split in one file.
    public var samplesPerFile: Int?
    /// Parquet: the column chunks' codec (uncompressed, snappy or zstd).
    public var compression: ParquetCompression = .snappy
    /// Parquet: rows per row group.
    public var rowGroupSize = 1 << 16

    public init() {}
}

/// Where a conversion put its data and the slot sizes it found.
public struct ConvertedDataset: Sendable {
    /// The reader's `source`: the file list (Norm, Parquet) or the data file (Raw).
    public var trainSource: String
    public var evalSource: String?
    public var trainSamples: Int
    public var evalSamples: Int
    /// Keys per slot; slot `s` holds the global keys `Σ_{j<s} size[j] ..< +size[s]` (Parquet: the
    /// per-slot keys `0 ..< size[s]`, which a reader given this `slot_size_array` offsets to those).
    public var slotSizeArray: [Int]
    /// `slot_size_array.json` beside the data.
    public var slotSizeFile: String
}

/// Where a conversion stands, for a progress line.
public struct ConvertProgress: Sendable {
    public var pass: Int
    public var passes: Int
    public var bytesDone: Int
    public var bytesTotal: Int
    public var samples: Int
    public var seconds: Double

    /// `pass 2/2: 1.2 M samples (850 k samples/s), 512 MB of 1.1 GB (62 MB/s), ETA 9 s`.
    public var line: String {
        func size(_ b: Double) -> String { b >= 1e9 ? String(format: "%.2f GB", b / 1e9) : String(format: "%.1f MB", b / 1e6) }
        let rate = seconds > 0 ? Double(bytesDone) / seconds : 0
        let eta = rate > 0 ? String(format: "%.0f s", Double(bytesTotal - bytesDone) / rate) : "?"
        return String(format: "pass %d/%d: %d samples (%.0f samples/s), %@ of %@ (%@/s), ETA %@", pass, passes, samples,
                      seconds > 0 ? Double(samples) / seconds : 0, size(Double(bytesDone)), size(Double(bytesTotal)), size(rate), eta)
    }
}

/// Converts Criteo-style TSV (a 0/1 label, 13 integer and 26 hexadecimal categorical columns,
/// any of them but the label empty) into Norm, Raw or Parquet files, streaming and on several threads.
///
/// Dense values: missing → 0, negative → 0 (HugeCTR's NVTabular Criteo preprocessing clips at 0),
/// then `log(x + 1)` as float32 (Norm, Raw with `floatLabelDense`), or the clipped integer for
/// int32 Raw files, whose reader takes the same `log(x + 1)`. Categorical values become
/// globally offset keys (see ``ConvertOptions``), or per-slot keys in Parquet files (HugeCTR's
/// Parquet reader adds the offsets from `slot_size_array`), and `slot_size_array.json` records
/// the slot sizes. Output is identical for identical input whatever the thread count; a malformed line
/// stops the conversion with its line number.
///
/// ```swift
/// let ds = try CriteoConverter.convert(input: "day_0.tsv", eval: "day_1.tsv", into: "data/criteo", options: options)
/// print(ds.slotSizeArray)
/// ```
public enum CriteoConverter {
    public static let denseColumns = 13
    public static let categoricalColumns = 26

    public static func convert(input: String, eval: String? = nil, into directory: String, options: ConvertOptions = ConvertOptions(),
                               progress: ((ConvertProgress) -> Void)? = nil) throws -> ConvertedDataset {
        try validate(options)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError(file: directory, "cannot create the output folder: \(error)", fix: "Check the path and permissions.")
        }
        let sizes = try ([input] + (eval.map { [$0] } ?? [])).map { path in
            guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int else {
                throw DataError(file: path, "the input file does not exist", fix: "Check the path.")
            }
            return size
        }
        let passes = options.hashSize == nil ? 2 : 1
        var meter = Meter(total: sizes[0] * passes + (sizes.count > 1 ? sizes[1] : 0), passes: passes, report: progress)

        let mapping: CategoricalMapping
        if let hashSize = options.hashSize {
            mapping = .hashed(size: hashSize)
        } else {
            mapping = try .vocabulary(countValues(input, options: options, meter: &meter), minFrequency: options.minFrequency)
            meter.pass = 2
        }
        let slotSizes = mapping.slotSizes
        let totalKeys = slotSizes.reduce(0, +)
        guard options.i64Keys || totalKeys <= Int(UInt32.max) + 1 else {
            throw DataError(file: input, "the converted keys do not fit in uint32", found: "Σ slot sizes = \(totalKeys)",
                            fix: "Use int64 keys (--key-type I64), a higher --min-frequency, or --hash-size.")
        }
        let train = try write(input, split: "train", mapping: mapping, directory: directory, options: options, meter: &meter)
        let evaluation = try eval.map { try write($0, split: "eval", mapping: mapping, directory: directory, options: options, meter: &meter) }
        let slotFile = (directory as NSString).appendingPathComponent("slot_size_array.json")
        try writeSlotSizes(slotSizes, to: slotFile, options: options, train: train.samples, eval: evaluation?.samples)
        return ConvertedDataset(trainSource: train.source, evalSource: evaluation?.source, trainSamples: train.samples,
                                evalSamples: evaluation?.samples ?? 0, slotSizeArray: slotSizes, slotSizeFile: slotFile)
    }

    private static func validate(_ options: ConvertOptions) throws {
        guard options.minFrequency >= 1 else {
            throw DataError("min frequency must be at least 1", found: "\(options.minFrequency)", fix: "Use 1 to keep every value.")
        }
        if let hashSize = options.hashSize {
            guard hashSize >= 2 else {
                throw DataError("hash size must be at least 2 (key 0 is kept for missing values)", found: "\(hashSize)")
            }
            guard options.minFrequency == 1 else {
                throw DataError("a frequency threshold and hashing exclude each other", found: "min frequency \(options.minFrequency) and hash size \(hashSize)",
                                fix: "Give one of them.")
            }
        }
        guard options.threads >= 1, options.chunkBytes >= 1, (options.samplesPerFile ?? 1) >= 1, options.rowGroupSize >= 1 else {
            throw DataError("threads, chunk bytes, samples per file and row group size must be positive",
                            found: "\(options.threads), \(options.chunkBytes), \(options.samplesPerFile ?? 1), \(options.rowGroupSize)")
        }
    }

    /// Pass 1: each worker counts the values of every slot in its own tables; merged at the end.
    private static func countValues(_ input: String, options: ConvertOptions, meter: inout Meter) throws -> [ValueTable] {
        let tables = WorkerTables(workers: options.threads)
        try lines(of: input, options: options, work: { chunk, worker in
            let counts = tables.tables[worker]
            return ((), try CriteoLineParser.parse(chunk.bytes) { slot, value, present in
                if present { counts[slot].add(value, count: 1) }
                return 0
            }.count)
        }, consume: { _, samples, bytesRead in meter.advance(samples: samples, bytesRead: bytesRead) })
        let merged = tables.tables[0]
        for worker in tables.tables.dropFirst() {
            for slot in 0 ..< categoricalColumns { worker[slot].forEach { merged[slot].add($0, count: $1) } }
        }
        return merged
    }

    /// Pass 2 (or the only pass): one split into its files.
    private static func write(_ input: String, split: String, mapping: CategoricalMapping, directory: String,
                              options: ConvertOptions, meter: inout Meter) throws -> (source: String, samples: Int) {
        let sink: any ConversionSink = switch options.format {
        case .norm: try NormConversionSink(directory: directory, split: split, options: options)
        case .raw: try RawConversionSink(directory: directory, split: split, options: options)
        case .parquet: try ParquetConversionSink(directory: directory, split: split, options: options, slotSizes: mapping.slotSizes)
        }
        let encoder = sink.encoder
        var samples = 0
        try lines(of: input, options: options, work: { chunk, _ in
            let parsed = try CriteoLineParser.parse(chunk.bytes) { slot, value, present in mapping.key(slot: slot, value: value, present: present) }
            return (encoder.encode(parsed), parsed.count)
        }, consume: { encoded, count, bytesRead in
            try sink.write(encoded, samples: count)
            samples += count
            meter.advance(samples: count, bytesRead: bytesRead)
        })
        guard samples > 0 else {
            throw DataError(file: input, "the input holds no samples", fix: "Give a TSV file with one sample per line.")
        }
        meter.finishFile()
        return (try sink.finish(), samples)
    }

    /// The chunk pipeline over `input`, where `work` returns a result and its chunk's line count;
    /// a malformed line's problem becomes a `DataError` naming its line number in the file.
    private static func lines<R>(of input: String, options: ConvertOptions, work: @escaping @Sendable (LineChunk, Int) throws -> (R, Int),
                                 consume: (R, Int, Int) throws -> Void) throws {
        var linesBefore = 0
        do {
            try LineChunkPipeline.run(path: input, chunkBytes: options.chunkBytes, threads: options.threads, work: work) { result, bytesRead in
                try consume(result.0, result.1, bytesRead)
                linesBefore += result.1
            }
        } catch let problem as LineProblem {
            throw DataError(file: input, "line \(linesBefore + problem.line): \(problem.message)",
                            fix: "Fix or remove that line; each line is label, 13 integers and 26 hexadecimal values, tab-separated (fields may be empty except the label).")
        }
    }

    private static func writeSlotSizes(_ sizes: [Int], to path: String, options: ConvertOptions, train: Int, eval: Int?) throws {
        let format = switch options.format {
        case .norm: "Norm"
        case .raw: "Raw"
        case .parquet: "Parquet"
        }
        var fields = ["\"slot_size_array\": [\(sizes.map(String.init).joined(separator: ", "))]", "\"format\": \"\(format)\"",
                      "\"i64_input_key\": \(options.i64Keys)", "\"num_samples\": \(train)"]
        if let eval { fields.append("\"eval_num_samples\": \(eval)") }
        if options.format == .raw { fields.append("\"float_label_dense\": \(options.floatLabelDense)") }
        if let hash = options.hashSize { fields.append("\"hash_size\": \(hash)") } else { fields.append("\"min_frequency\": \(options.minFrequency)") }
        let text = "{\n  " + fields.joined(separator: ",\n  ") + "\n}\n"
        do {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw DataError(file: path, "cannot write the slot sizes: \(error)", fix: "Check that the folder is writable.")
        }
    }
}

/// Each pass-1 worker's count tables, one per slot.
private final class WorkerTables: @unchecked Sendable {
    let tables: [[ValueTable]]
    init(workers: Int) {
        tables = (0 ..< workers).map { _ in (0 ..< CriteoConverter.categoricalColumns).map { _ in ValueTable() } }
    }
}

/// How categorical values become global keys.
private enum CategoricalMapping: @unchecked Sendable {
    /// Ids by table, with each slot's global offset and size.
    case table(ids: [ValueTable], offsets: [Int64], sizes: [Int])
    case hashed(size: Int)

    /// Values counted at least `minFrequency` times get ids 1… in ascending order; 0 is the rest.
    static func vocabulary(_ counts: [ValueTable], minFrequency: Int) -> CategoricalMapping {
        var offsets: [Int64] = []
        var sizes: [Int] = []
        let ids = counts.map { table in
            var kept: [UInt64] = []
            table.forEach { value, count in if count >= UInt32(min(minFrequency, Int(UInt32.max))) { kept.append(value) } }
            kept.sort()
            let idTable = ValueTable(capacity: kept.count)
            for (i, value) in kept.enumerated() { idTable.set(value, UInt32(i + 1)) }
            offsets.append(Int64(sizes.reduce(0, +)))
            sizes.append(kept.count + 1)
            return idTable
        }
        return .table(ids: ids, offsets: offsets, sizes: sizes)
    }

    var slotSizes: [Int] {
        switch self {
        case .table(_, _, let sizes): sizes
        case .hashed(let size): Array(repeating: size, count: CriteoConverter.categoricalColumns)
        }
    }

    @inline(__always)
    func key(slot: Int, value: UInt64, present: Bool) -> Int64 {
        switch self {
        case .table(let ids, let offsets, _):
            offsets[slot] + Int64(present ? ids[slot][value] ?? 0 : 0)
        case .hashed(let size):
            Int64(slot * size) + (present ? 1 + Int64(value % UInt64(size - 1)) : 0)
        }
    }
}

/// Progress across passes and files.
private struct Meter {
    let total: Int
    let passes: Int
    let report: ((ConvertProgress) -> Void)?
    var pass = 1
    private var before = 0
    private var inFile = 0
    private var samples = 0
    private let start = Date()

    init(total: Int, passes: Int, report: ((ConvertProgress) -> Void)?) {
        (self.total, self.passes, self.report) = (total, passes, report)
    }

    mutating func advance(samples n: Int, bytesRead: Int) {
        samples += n
        inFile = bytesRead
        report?(ConvertProgress(pass: pass, passes: passes, bytesDone: before + inFile, bytesTotal: total, samples: samples,
                                seconds: Date().timeIntervalSince(start)))
    }

    mutating func finishFile() {
        before += inFile
        inFile = 0
    }
}

/// The samples of one chunk, column by column: labels, clipped dense integers, global keys.
struct ParsedChunk {
    var count = 0
    var labels: [Int32] = []
    var dense: [Int32] = []
    var keys: [Int64] = []
}

/// Parses Criteo TSV lines.
enum CriteoLineParser {
    static let fields = 1 + CriteoConverter.denseColumns + CriteoConverter.categoricalColumns

    /// The lines of `bytes`; `key(slot, value, present)` turns each categorical field into its key.
    static func parse(_ bytes: UnsafeRawBufferPointer, key: (Int, UInt64, Bool) -> Int64) throws -> ParsedChunk {
        var out = ParsedChunk()
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return out }
        let estimate = bytes.count / 100 + 1
        out.labels.reserveCapacity(estimate)
        out.dense.reserveCapacity(estimate * CriteoConverter.denseColumns)
        out.keys.reserveCapacity(estimate * CriteoConverter.categoricalColumns)
        let end = bytes.count
        var pos = 0
        var line = 0
        while pos < end {
            line += 1
            var lineEnd = pos
            while lineEnd < end && base[lineEnd] != 0x0A { lineEnd += 1 }
            var stop = lineEnd
            if stop > pos && base[stop - 1] == 0x0D { stop -= 1 }
            guard stop > pos else { throw LineProblem(line: line, message: "the line is empty; " + fieldCount(base, pos, stop)) }
            var field = 0
            var start = pos
            while true {
                var i = start
                while i < stop && base[i] != 0x09 { i += 1 }
                guard field < fields else { throw LineProblem(line: line, message: fieldCount(base, pos, stop)) }
                try parseField(field, base + start, i - start, into: &out, line: line, key: key)
                field += 1
                if i >= stop { break }
                start = i + 1
            }
            guard field == fields else { throw LineProblem(line: line, message: fieldCount(base, pos, stop)) }
            out.count += 1
            pos = lineEnd + 1
        }
        return out
    }

    private static func fieldCount(_ base: UnsafePointer<UInt8>, _ start: Int, _ stop: Int) -> String {
        var tabs = 0
        for i in start ..< stop where base[i] == 0x09 { tabs += 1 }
        return "expected \(fields) tab-separated fields (a label, \(CriteoConverter.denseColumns) integers, \(CriteoConverter.categoricalColumns) hexadecimal values), found \(tabs + 1)"
    }

    @inline(__always)
    private static func parseField(_ field: Int, _ p: UnsafePointer<UInt8>, _ n: Int, into out: inout ParsedChunk, line: Int,
                                   key: (Int, UInt64, Bool) -> Int64) throws {
        func text() -> String { n == 0 ? "an empty field" : "'" + String(decoding: UnsafeBufferPointer(start: p, count: min(n, 40)), as: UTF8.self) + "'" }
        if field == 0 {
            guard n == 1, p[0] == 0x30 || p[0] == 0x31 else { throw LineProblem(line: line, message: "the label must be 0 or 1, found \(text())") }
            out.labels.append(Int32(p[0] - 0x30))
        } else if field <= CriteoConverter.denseColumns {
            var value: Int64 = 0
            var i = 0
            let negative = n > 0 && p[0] == 0x2D
            if negative { i = 1 }
            guard !negative || n > 1 else { throw LineProblem(line: line, message: "column \(field + 1) (I\(field)) must be an integer, found \(text())") }
            while i < n {
                let d = Int64(p[i]) - 0x30
                guard d >= 0 && d <= 9 else { throw LineProblem(line: line, message: "column \(field + 1) (I\(field)) must be an integer, found \(text())") }
                value = min(value * 10 + d, Int64(Int32.max))
                i += 1
            }
            out.dense.append(negative ? 0 : Int32(value))
        } else {
            guard n <= 16 else {
                throw LineProblem(line: line, message: "column \(field + 1) (C\(field - CriteoConverter.denseColumns)) must be a hexadecimal value of at most 16 digits, found \(text())")
            }
            var value: UInt64 = 0
            for i in 0 ..< n {
                let c = p[i] | 0x20
                let d: UInt8 = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : 0xFF
                guard d != 0xFF, p[i] >= 0x30 else {
                    throw LineProblem(line: line, message: "column \(field + 1) (C\(field - CriteoConverter.denseColumns)) must be a hexadecimal value of at most 16 digits, found \(text())")
                }
                value = value << 4 | UInt64(d)
            }
            out.keys.append(key(field - 1 - CriteoConverter.denseColumns, value, n > 0))
        }
    }
}
