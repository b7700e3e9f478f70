import Foundation
import SwiftCTR

/// `hugectr.tools.DataGeneratorParams` (spec §1.17).
struct GeneratorParams {
    var format: DataReaderType
    var labelDim: Int, denseDim: Int, numSlot: Int
    var i64Keys: Bool
    var source: String, evalSource: String
    var slotSizes: [Int], nnz: [Int]
    var check: CheckType
    var powerLaw: Bool
    var alpha: Double
    var numFiles: Int, evalNumFiles: Int, samplesPerFile: Int
    var numSamples: Int, evalNumSamples: Int
    var floatLabelDense: Bool

    init(_ kw: inout Keywords) throws {
        format = try kw.value("format", of: .dataReaderTypeT)
        labelDim = try kw.int("label_dim")
        denseDim = try kw.int("dense_dim")
        numSlot = try kw.int("num_slot")
        i64Keys = try kw.bool("i64_input_key")
        source = try kw.string("source")
        evalSource = try kw.string("eval_source")
        slotSizes = try kw.ints("slot_size_array")
        nnz = try kw.ints("nnz_array", [])
        check = try kw.value("check_type", of: .checkT, "Sum")
        powerLaw = try kw.member("dist_type", of: .distributionT, "PowerLaw") == "PowerLaw"
        let kind = try kw.member("power_law_type", of: .powerLawT, "Specific")
        let given = Double(try kw.float("alpha", 1.2))
        alpha = ["Long": 0.9, "Medium": 1.1, "Short": 1.3][kind] ?? given
        numFiles = try kw.int("num_files", 128)
        evalNumFiles = try kw.int("eval_num_files", 32)
        samplesPerFile = try kw.int("num_samples_per_file", 40960)
        numSamples = try kw.int("num_samples", 5_242_880)
        evalNumSamples = try kw.int("eval_num_samples", 1_310_720)
        floatLabelDense = try kw.bool("float_label_dense", false)
        guard try kw.int("num_threads", 1) >= 1 else { throw SwiftCTRError(.config, "DataGeneratorParams: num_threads must be ≥ 1.") }
        func bad(_ text: String) -> SwiftCTRError { SwiftCTRError(.config, "DataGeneratorParams: " + text) }
        guard labelDim >= 1, denseDim >= 0, numSlot >= 1 else {
            throw bad("label_dim must be ≥ 1, dense_dim ≥ 0 and num_slot ≥ 1; found \(labelDim), \(denseDim), \(numSlot).")
        }
        guard slotSizes.count == numSlot, slotSizes.allSatisfy({ $0 >= 1 }) else {
            throw bad("slot_size_array must hold num_slot (\(numSlot)) sizes ≥ 1, found \(slotSizes).")
        }
        if nnz.isEmpty { nnz = Array(repeating: 1, count: numSlot) }
        guard nnz.count == numSlot, nnz.allSatisfy({ $0 >= 1 }) else {
            throw bad("nnz_array must be empty or hold num_slot (\(numSlot)) values ≥ 1, found \(nnz).")
        }
        if powerLaw, kind == "Specific", !(alpha > 0 && abs(alpha - 1) >= 1e-6) {
            throw bad("PowerLaw_t.Specific needs alpha > 0 and alpha ≠ 1, found \(alpha).")
        }
        guard numFiles >= 1, evalNumFiles >= 1, samplesPerFile >= 1, numSamples >= 1, evalNumSamples >= 1 else {
            throw bad("file and sample counts must be ≥ 1.")
        }
        if format == .raw {
            check = .none
            guard nnz.allSatisfy({ $0 == 1 }) else { throw bad("Raw data is one-hot; nnz_array must be all ones, found \(nnz).") }
        }
        guard format != .rawAsync else { throw bad("format RawAsync is not available; use Norm, Raw or Parquet.") }
    }
}

/// `hugectr.tools.DataGenerator(params).generate()`: random data in HugeCTR's generator layout.
/// Unlike HugeCTR (seeded from `std::random_device`) the data is the same on every run.
enum DataGeneratorBridge {
    static func generate(_ args: inout Arguments) throws -> JSONValue {
        let params = try Makers.object(args.raw("params"), "DataGeneratorParams", what: "DataGenerator(params)", GeneratorParams.init)
        switch params.format {
        case .raw:
            try raw(params, path: params.source, samples: params.numSamples, stream: 1)
            try raw(params, path: params.evalSource, samples: params.evalNumSamples, stream: 2)
        case .norm, .parquet:
            try files(params, list: params.source, folder: "train", count: params.numFiles, stream: 1)
            try files(params, list: params.evalSource, folder: "val", count: params.evalNumFiles, stream: 2)
        case .rawAsync: break
        }
        return .null
    }

    /// A key of slot `slot` in `[0, size)`: uniform, or HugeCTR's power law `y = ((hi^(1−α) −
    /// 1)·x + 1)^(1/(1−α))`, key = round(y) − 1.
    static func key(_ rng: inout CounterRNG, size: Int, _ p: GeneratorParams) -> Int64 {
        let x = rng.nextUniform()
        guard p.powerLaw else { return Int64(min(size - 1, Int(x * Double(size)))) }
        let e = 1 - p.alpha
        let y = pow((pow(Double(size), e) - 1) * x + 1, 1 / e)
        return Int64(max(0, min(size - 1, Int(y.rounded()) - 1)))
    }

    private static func files(_ p: GeneratorParams, list: String, folder: String, count: Int, stream: UInt64) throws {
        guard !FileManager.default.fileExists(atPath: list) else {
            print("DataGenerator: \(list) exists; its data is kept (HugeCTR skips existing file lists).")
            return
        }
        let directory = ((list as NSString).deletingLastPathComponent as NSString).appendingPathComponent(folder)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SwiftCTRError(.io, "DataGenerator: cannot create '\(directory)': \(error.localizedDescription).")
        }
        let ext = p.format == .parquet ? "parquet" : "data"
        let paths = (0..<count).map { (directory as NSString).appendingPathComponent("gen_\($0).\(ext)") }
        var rng = CounterRNG(seed: 0x5eed_da7a, stream: stream)
        let offsets = p.format == .parquet ? Array(repeating: 0, count: p.numSlot)
            : p.slotSizes.indices.map { p.slotSizes[..<$0].reduce(0, +) }
        for path in paths {
            let labelNames = (0..<p.labelDim).map { "label\($0)" }
            let norm = p.format == .norm
                ? try NormWriter(path: path, labelDim: p.labelDim, denseDim: p.denseDim, slotNum: p.numSlot, i64Keys: p.i64Keys, check: p.check)
                : nil
            let parquet = p.format == .parquet
                ? try ParquetWriter(path: path, labelNames: labelNames, denseNames: (0..<p.denseDim).map { "I\($0)" },
                                    slotNames: (0..<p.numSlot).map { "C\($0)" }, multiHot: p.nnz.map { $0 > 1 }, i64Keys: p.i64Keys)
                : nil
            for _ in 0..<p.samplesPerFile {
                let labels = (0..<p.labelDim).map { _ in Float(rng.nextUniform()) }
                let dense = (0..<p.denseDim).map { _ in Float(rng.nextUniform()) }
                var keys: [Int64] = [], counts: [Int] = []
                for slot in 0..<p.numSlot {
                    // Norm: exactly nnz keys; Parquet: 1 + rand() % nnz, as HugeCTR's generator.
                    let n = p.format == .parquet ? 1 + Int(rng.next() % UInt64(p.nnz[slot])) : p.nnz[slot]
                    for _ in 0..<n { keys.append(Int64(offsets[slot]) + key(&rng, size: p.slotSizes[slot], p)) }
                    counts.append(n)
                }
                try norm?.append(labels: labels, dense: dense, keys: keys, slotNNZ: counts)
                try parquet?.append(labels: labels, dense: dense, keys: keys, slotNNZ: counts)
            }
            try norm?.finish()
            try parquet?.finish()
        }
        if p.format == .parquet {
            let rows = Dictionary(uniqueKeysWithValues: paths.map { (($0 as NSString).lastPathComponent, p.samplesPerFile) })
            try ParquetDatasetMetadata(fileRows: rows, labels: p.labelDim, denseDim: p.denseDim, slots: p.numSlot)
                .write(folder: directory)
        }
        do {
            try ("\(paths.count)\n" + paths.map { $0 + "\n" }.joined()).write(toFile: list, atomically: true, encoding: .utf8)
        } catch {
            throw SwiftCTRError(.io, "DataGenerator: cannot write the file list '\(list)': \(error.localizedDescription).")
        }
    }

    /// A Raw file: label `i % 2`, dense element j = j, one key per slot.
    private static func raw(_ p: GeneratorParams, path: String, samples: Int, stream: UInt64) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let writer = try RawWriter(path: path, labelDim: p.labelDim, denseDim: p.denseDim, slotNum: p.numSlot,
                                   i64Keys: p.i64Keys, floatLabelDense: p.floatLabelDense)
        var rng = CounterRNG(seed: 0x5eed_da7a, stream: stream)
        for i in 0..<samples {
            let keys = p.slotSizes.map { key(&rng, size: $0, p) }
            if p.floatLabelDense {
                try writer.append(labels: Array(repeating: Float(i % 2), count: p.labelDim),
                                  dense: (0..<p.denseDim).map(Float.init), keys: keys)
            } else {
                try writer.append(labels: Array(repeating: Int32(i % 2), count: p.labelDim),
                                  dense: (0..<p.denseDim).map(Int32.init), keys: keys)
            }
        }
        try writer.finish()
    }
}
