import ArgumentParser
import Foundation
import SwiftCTR

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a synthetic Criteo-shaped dataset (Norm, Raw or Parquet files) with a planted signal and its oracle AUC.")

    @Option(help: "Dataset folder to write.")
    var out: String

    @Option(help: "Training samples.")
    var train: Int = SyntheticConfig.default.numTrain

    @Option(help: "Evaluation samples.")
    var eval: Int = SyntheticConfig.default.numEval

    @Option(help: "Random seed.")
    var seed: UInt64 = SyntheticConfig.default.seed

    @Option(help: "Comma-separated cardinality of each slot (default: the DCN Criteo sizes ÷ 20).")
    var slotSizes: String?

    @Option(help: "Most keys per slot: one number for all slots or a comma-separated list (1 = one-hot).")
    var nnz: String = "1"

    @Option(help: "Dense features per sample (0 for none).")
    var denseDim: Int = SyntheticConfig.default.denseDim

    @Option(help: "Key width of the Norm files: I64 (int64 keys, for i64_input_key true) or I32 (uint32 keys, i64_input_key false).")
    var keyType = "I64"

    @Option(help: "File format: norm (Norm files and file lists), raw (train_data.bin and eval_data.bin, one-hot) or parquet (HugeCTR's Parquet layout: train/ and eval/ with _file_list.txt and _metadata.json; keys per slot, read with slot_size_array).")
    var format: SyntheticFormat = .norm

    @Flag(help: "Raw: store labels and dense values as float32 (float_label_dense true) instead of int32.")
    var floatLabelDense = false

    @Option(help: "Parquet compression: none, snappy or zstd.")
    var compression = SyntheticConfig.default.compression

    @Option(help: "Rows per Parquet row group.")
    var rowGroupSize = SyntheticConfig.default.rowGroupSize

    @Option(help: "Training files (Norm and Parquet).")
    var files: Int = SyntheticConfig.default.trainFiles

    @Option(help: "Spread (standard deviation) of the per-key part of the true logit.")
    var linearStd: Double = SyntheticConfig.default.linearStd

    @Option(help: "Spread of the pairwise factor-interaction part of the true logit.")
    var interactionStd: Double = SyntheticConfig.default.interactionStd

    @Option(help: "Keys expected fewer times than this in the training split carry no signal.")
    var minExpectedCount: Double = SyntheticConfig.default.minExpectedCount

    @Option(help: "Labels per sample, each its own Bernoulli draw from a related planted logit (multi-task models such as MMoE).")
    var labelDim: Int = 1

    @Option(help: "Comma-separated slot counts of the sparse inputs data1, data2, … (summing to the slot count, history and target slots included; default one input).")
    var sparseInputs: String?

    @Option(help: "DIN-style history: this many one-hot history-item slots and one target-item slot after the slots, all keys from one item vocabulary (0 for none).")
    var sequenceLength: Int = 0

    @Flag(help: "With --sequence-length: L + 1 more slots after the target, the category of each history item and of the target (DIN's and BST's CateID input).")
    var sequenceCategories = false

    @Option(help: "Items shared by the history and target slots of --sequence-length.")
    var itemVocabulary: Int = SyntheticConfig.default.itemVocabulary

    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out must name a folder, found an empty string.") }
        guard train >= 1 else { throw ValidationError("--train must be ≥ 1, found \(train); give the number of training samples to write.") }
        guard eval >= 1 else { throw ValidationError("--eval must be ≥ 1, found \(eval); give the number of evaluation samples to write.") }
        guard ["I32", "I64"].contains(keyType.uppercased()) else {
            throw ValidationError("--key-type must be I32 or I64 (HugeCTR's input_key_type), found '\(keyType)'.")
        }
        guard ParquetCompression(writing: compression) != nil else {
            throw ValidationError("--compression must be none, snappy or zstd, found '\(compression)'.")
        }
        guard labelDim >= 1 else {
            throw ValidationError("--label-dim must be ≥ 1, found \(labelDim); use 1 for one label or the number of tasks (2 for MMoE).")
        }
        guard sequenceLength >= 0 else {
            throw ValidationError("--sequence-length must be ≥ 0, found \(sequenceLength); use 0 for no history or the history length (10 in HugeCTR's DIN sample).")
        }
        guard itemVocabulary >= SyntheticConfig.itemCategories else {
            throw ValidationError("--item-vocabulary must be ≥ \(SyntheticConfig.itemCategories) (one item per latent category), found \(itemVocabulary); raise it.")
        }
        guard !sequenceCategories || sequenceLength > 0 else {
            throw ValidationError("--sequence-categories adds the categories of a history: give --sequence-length too.")
        }
        guard rowGroupSize >= 1 else { throw ValidationError("--row-group-size must be ≥ 1, found \(rowGroupSize).") }
        guard files >= 1 && files <= train else {
            throw ValidationError("--files must be 1...\(train) (at least one sample per file), found \(files). Lower --files or raise --train.")
        }
        for (value, option) in [(linearStd, "--linear-std"), (interactionStd, "--interaction-std"),
                                (minExpectedCount, "--min-expected-count")] {
            guard value.isFinite && value >= 0 else { throw ValidationError("\(option) must be a finite number ≥ 0, found \(value); drop the option to use its default.") }
        }
        do {
            try config().validate()
        } catch let error as DataError {
            throw ValidationError(error.message)
        }
    }

    /// The generator's settings from the options (`--slot-sizes` and `--nnz` parsed).
    private func config() throws -> SyntheticConfig {
        var config = SyntheticConfig.default
        config.numTrain = train
        config.numEval = eval
        config.seed = seed
        config.trainFiles = files
        config.denseDim = denseDim
        config.i64Keys = keyType.uppercased() == "I64"
        config.format = format
        config.floatLabelDense = floatLabelDense
        config.compression = compression
        config.rowGroupSize = rowGroupSize
        config.linearStd = linearStd
        config.interactionStd = interactionStd
        config.minExpectedCount = minExpectedCount
        config.labelDim = labelDim
        config.sequenceLength = sequenceLength
        config.itemVocabulary = itemVocabulary
        config.sequenceCategories = sequenceCategories
        if let slotSizes { config.slotSizes = try parseList(slotSizes, "--slot-sizes") }
        let nnzList = try parseList(nnz, "--nnz")
        guard nnzList.count == 1 || nnzList.count == config.slotSizes.count else {
            throw ValidationError("--nnz needs one number or one per slot (\(config.slotSizes.count)), found \(nnzList.count) numbers in '\(nnz)'. Give one value for all slots or one per slot.")
        }
        config.nnzPerSlot = nnzList.count == 1 ? Array(repeating: nnzList[0], count: config.slotSizes.count) : nnzList
        if let sparseInputs {
            config.sparseInputs = try parseList(sparseInputs, "--sparse-inputs")
            guard config.sparseInputs.reduce(0, +) == config.totalSlots else {
                throw ValidationError("--sparse-inputs must add up to the \(config.totalSlots) slots"
                                      + (sequenceLength > 0 ? " (\(config.slotSizes.count) slots + \(sequenceLength) history + 1 target\(sequenceCategories ? ", and their \(sequenceLength + 1) categories" : ""))" : "")
                                      + ", found '\(sparseInputs)' (sum \(config.sparseInputs.reduce(0, +))). Change the counts, or drop the option for one input.")
            }
        }
        return config
    }

    func run() throws {
        try reportingErrors {
            let config = try config()
            let dataset = try generateDataset(config, into: out)
            let inputs = dataset.layout.sparse.map { "\($0.name) \($0.slotNum)" }.joined(separator: ", ")
            print("wrote \(dataset.directory): \(train) train + \(eval) eval samples, \(format.rawValue) files, \(labelDim) label(s), \(config.totalSlots) slots (\(inputs)), \(config.i64Keys ? "I64" : "I32") keys")
            if format == .raw {
                print("Raw sources \(dataset.trainList) (num_samples \(train)) and \(dataset.evalList) (eval_num_samples \(eval)), float_label_dense \(floatLabelDense)")
            }
            if format == .parquet {
                print("file lists \(dataset.trainList) and \(dataset.evalList); keys are per slot: read with data_reader_type Parquet and slot_size_array \(config.slotSizeArray.map(String.init).joined(separator: ","))")
            }
            print("oracle eval AUC \(String(format: "%.4f", dataset.oracleAUC)), dense-only part \(String(format: "%.4f", dataset.denseOnlyAUC))"
                  + (labelDim > 1 ? "; per label \(dataset.taskOracleAUCs.map { String(format: "%.4f", $0) }.joined(separator: ", "))" : ""))
        }
    }
}

func parseList(_ text: String, _ option: String) throws -> [Int] {
    let items = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !items.isEmpty, items.allSatisfy({ ($0 ?? 0) > 0 }) else {
        throw ValidationError("\(option) expects positive integers separated by commas, found '\(text)'.")
    }
    return items.map { $0! }
}

/// Checks `config`, then generates with a progress line on standard error.
func generateDataset(_ config: SyntheticConfig, into directory: String) throws -> GeneratedDataset {
    try config.validate()
    FileHandle.standardError.write(Data("generating \(config.numTrain + config.numEval) samples into \(directory) …\n".utf8))
    return try SyntheticGenerator.generate(config, into: directory)
}

extension SyntheticFormat: ExpressibleByArgument {}
