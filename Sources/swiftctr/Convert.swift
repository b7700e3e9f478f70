import ArgumentParser
import Foundation
import SwiftCTR

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert Criteo-style TSV (label, 13 integers, 26 hex values) into Norm or Raw files with globally offset keys, or Parquet files with per-slot keys.")

    @Argument(help: "The training TSV file.")
    var input: String

    @Option(help: "An evaluation TSV file, converted with the training file's vocabulary.")
    var eval: String?

    @Option(help: "Output folder (slot_size_array.json is written there too).")
    var out: String

    @Option(help: "Output format: norm (train/part_*.bin and train_list.txt), raw (train_data.bin) or parquet (train/part_*.parquet, train/_file_list.txt and train/_metadata.json; keys per slot, read with slot_size_array from slot_size_array.json).")
    var format: SyntheticFormat = .norm

    @Option(help: "Norm check type: Sum or None.")
    var check = "Sum"

    @Option(help: "Key width: I32 (uint32 keys) or I64 (int64 keys).")
    var keyType = "I32"

    @Flag(help: "Raw: store labels and dense values as float32 (float_label_dense true) instead of int32.")
    var floatLabelDense = false

    @Option(help: "Values seen fewer times than this in the training file share their slot's key 0 (two passes).")
    var minFrequency = 1

    @Option(help: "Hash each slot's values into this many keys instead (one pass; key 0 is for missing values).")
    var hashSize: Int?

    @Option(help: "Worker threads (default: every core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Norm and Parquet: samples per file (default: one file per split).")
    var samplesPerFile: Int?

    @Option(help: "Parquet compression: none, snappy or zstd (default snappy).")
    var compression: String?

    @Option(help: "Parquet: rows per row group (default 65536).")
    var rowGroupSize: Int?

    func validate() throws {
        guard CheckType(rawValue: check) != nil else { throw ValidationError("--check must be Sum or None, found '\(check)'.") }
        guard ["I32", "I64"].contains(keyType.uppercased()) else { throw ValidationError("--key-type must be I32 or I64, found '\(keyType)'.") }
        guard !floatLabelDense || format == .raw else {
            throw ValidationError("--float-label-dense applies to --format raw only, found it with --format \(format.rawValue), whose files always hold float32; drop the flag.")
        }
        guard (compression == nil && rowGroupSize == nil) || format == .parquet else {
            throw ValidationError("--compression and --row-group-size apply to --format parquet only, found them with --format \(format.rawValue); drop them or add --format parquet.")
        }
        guard compression.map({ ParquetCompression(writing: $0) != nil }) ?? true else {
            throw ValidationError("--compression must be none, snappy or zstd, found '\(compression ?? "")'; use one of those, or drop the option for snappy.")
        }
        guard (rowGroupSize ?? 1) >= 1 else { throw ValidationError("--row-group-size must be ≥ 1, found \(rowGroupSize ?? 0); give rows per row group, e.g. 65536.") }
    }

    func run() throws {
        var options = ConvertOptions()
        options.format = format
        options.check = CheckType(rawValue: check) ?? .sum
        options.i64Keys = keyType.uppercased() == "I64"
        options.floatLabelDense = floatLabelDense
        options.minFrequency = minFrequency
        options.hashSize = hashSize
        options.threads = threads
        options.samplesPerFile = samplesPerFile
        options.compression = compression.flatMap(ParquetCompression.init(writing:)) ?? options.compression
        options.rowGroupSize = rowGroupSize ?? options.rowGroupSize
        try reportingErrors {
            var last = Date.distantPast
            let result = try CriteoConverter.convert(input: input, eval: eval, into: out, options: options) { progress in
                guard Date().timeIntervalSince(last) > 0.5 || progress.bytesDone == progress.bytesTotal else { return }
                last = Date()
                FileHandle.standardError.write(Data("\r\(progress.line)   ".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print("wrote \(result.trainSamples) samples: \(result.trainSource)" + (result.evalSource.map { ", \(result.evalSamples) eval samples: \($0)" } ?? ""))
            print("slot_size_array (\(result.slotSizeFile)): \(result.slotSizeArray)")
            if format == .parquet { print("keys are per slot: read with data_reader_type Parquet and this slot_size_array") }
        }
    }
}
