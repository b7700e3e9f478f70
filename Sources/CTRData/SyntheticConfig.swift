/// What ``SyntheticGenerator`` writes: sizes, key distribution, file layout and the planted signal.
///
/// The true logit of a sample is
/// `meanLogit + Σ_keys w[key] + Σ_pairs ⟨F_s, F_t⟩ + Σ_d wd[d]·dense[d]` (centred so that its mean
/// is `meanLogit`), where `F_s` sums the factor vectors of slot `s`'s keys (with `meanCombiner`, a
/// slot's keys contribute the mean of their weights and factors instead). Weights and factors are
/// scaled so the three parts have standard deviations `linearStd`, `interactionStd` and `denseStd`,
/// and they fade to zero for keys expected fewer than `minExpectedCount` times in the train split, so
/// every bit of signal is learnable from the data.
///
/// Shapes for HugeCTR's other sample models:
/// - `labelDim` > 1 (MMoE): label `k` is its own Bernoulli draw from logit `k`, which reweights the
///   per-key part slot by slot (factor `1 + taskStd·N(0,1)` per slot and task) and adds `0.5·k` to
///   the mean, so the tasks share features but differ.
/// - `sparseInputs`: the slots split into inputs `data1`, `data2`, … of these slot counts; the files
///   are the same, only ``layout`` changes.
/// - `sequenceLength` L > 0 (DIN): after the slots come L one-hot history-item slots and one
///   target-item slot, as in HugeCTR's DIN sample (its `GoodID` input is 10 history slots and the
///   target slot, one key each). All L + 1 share one vocabulary of `itemVocabulary` items: global
///   keys `Σ slotSizes ..< + itemVocabulary`, per-slot Parquet keys read with ``slotSizeArray``
///   (`slotSizes + [0 × L, itemVocabulary]`, HugeCTR's shared-offset convention). Item `i` has
///   category `i % itemCategories`; a sample picks an interest category, draws history items from it
///   with probability 0.7 and the target with 0.5 (else from a uniform category), and its logit
///   gains `sequenceStd` × (the standardized fraction of history items in the target's category).
///
/// ```swift
/// var config = SyntheticConfig.default
/// config.numTrain = 100_000
/// ```
public struct SyntheticConfig: Codable, Equatable, Sendable {
    public var numTrain: Int
    public var numEval: Int
    /// Keys per slot; slot `s` uses the global key range `Σ_{j<s} slotSizes[j] ..< +slotSizes[s]`.
    public var slotSizes: [Int]
    /// Maximum keys per slot; 1 is one-hot, more is multi-hot with a uniform count in `1...nnz`.
    public var nnzPerSlot: [Int]
    public var denseDim: Int
    public var seed: UInt64
    public var trainFiles: Int
    public var evalFiles: Int
    public var i64Keys: Bool
    public var check: CheckType
    /// The file format written: Norm files with file lists, one Raw file per split, or Parquet files.
    public var format: SyntheticFormat
    /// Raw only: float32 labels and dense values, else int32 ones (dense read back as `log(x + 1)`).
    public var floatLabelDense: Bool
    /// Parquet only: the column codec, `none`, `snappy` or `zstd`.
    public var compression: String
    /// Parquet only: rows per row group.
    public var rowGroupSize: Int
    /// Key rank `r` of a slot is drawn with probability ∝ `(r+1)^-zipfExponent`.
    public var zipfExponent: Double
    /// Mean true logit; sets the positive rate (about 0.3 by default).
    public var meanLogit: Double
    public var linearStd: Double
    public var interactionStd: Double
    public var denseStd: Double
    /// Number of slot pairs with a factor interaction.
    public var interactionPairs: Int
    public var factorDim: Int
    /// Keys expected fewer times than this in the train split carry no signal; 4× as often, full signal.
    public var minExpectedCount: Double
    /// Labels per sample, one Bernoulli draw each (multi-task models such as MMoE).
    public var labelDim: Int
    /// Spread of each extra task's per-slot reweighting of the per-key part.
    public var taskStd: Double
    /// Slot counts of the sparse inputs `data1`, `data2`, … (summing to ``totalSlots``); empty for one input.
    public var sparseInputs: [Int]
    /// History items per sample (DIN); 0 for no history and target slots.
    public var sequenceLength: Int
    /// Items shared by the history and target slots.
    public var itemVocabulary: Int
    /// Spread of the target-history part of the true logit.
    public var sequenceStd: Double
    /// With a sequence: after the target slot come L + 1 more slots, the category of each history
    /// item and of the target (keys `Σ slotSizes + itemVocabulary ..< + itemCategories`), as DIN's
    /// and BST's GoodID/CateID inputs hold them.
    public var sequenceCategories: Bool
    /// Every sample has exactly `nnzPerSlot[s]` keys in slot `s` (a hotness, as MLPerf's
    /// multi-hot DLRM-DCNv2 data has) instead of a uniform count in `1...nnzPerSlot[s]`.
    public var fixedHotness = false
    /// A multi-hot slot's per-key part and factors are the mean over its keys instead of the sum,
    /// the signal an embedding with the `mean` combiner (HugeCTR's criteo_multi_slots) can read.
    public var meanCombiner = false

    /// Latent item categories of the sequence signal: item `i` belongs to `i % itemCategories`.
    public static let itemCategories = 8

    public init(numTrain: Int, numEval: Int, slotSizes: [Int], nnzPerSlot: [Int]? = nil, denseDim: Int = 13,
                seed: UInt64 = 2026, trainFiles: Int = 1, evalFiles: Int = 1, i64Keys: Bool = true,
                check: CheckType = .sum, format: SyntheticFormat = .norm, floatLabelDense: Bool = false,
                compression: String = "snappy", rowGroupSize: Int = 65536,
                zipfExponent: Double = 1.05, meanLogit: Double = -1.1,
                linearStd: Double = 1.5, interactionStd: Double = 0.4, denseStd: Double = 0.4,
                interactionPairs: Int = 20, factorDim: Int = 4, minExpectedCount: Double = 400,
                labelDim: Int = 1, taskStd: Double = 0.7, sparseInputs: [Int] = [], sequenceLength: Int = 0,
                itemVocabulary: Int = 1000, sequenceStd: Double = 1, sequenceCategories: Bool = false) {
        self.numTrain = numTrain
        self.numEval = numEval
        self.slotSizes = slotSizes
        self.nnzPerSlot = nnzPerSlot ?? Array(repeating: 1, count: slotSizes.count)
        self.denseDim = denseDim
        self.seed = seed
        self.trainFiles = trainFiles
        self.evalFiles = evalFiles
        self.i64Keys = i64Keys
        self.check = check
        self.format = format
        self.floatLabelDense = floatLabelDense
        self.compression = compression
        self.rowGroupSize = rowGroupSize
        self.zipfExponent = zipfExponent
        self.meanLogit = meanLogit
        self.linearStd = linearStd
        self.interactionStd = interactionStd
        self.denseStd = denseStd
        self.interactionPairs = interactionPairs
        self.factorDim = factorDim
        self.minExpectedCount = minExpectedCount
        self.labelDim = labelDim
        self.taskStd = taskStd
        self.sparseInputs = sparseInputs
        self.sequenceLength = sequenceLength
        self.itemVocabulary = itemVocabulary
        self.sequenceStd = sequenceStd
        self.sequenceCategories = sequenceCategories
    }

    /// Criteo-like: the 26 DCN sample cardinalities divided by 20, one-hot, 13 dense, 1M/200k samples.
    public static let `default` = SyntheticConfig(
        numTrain: 1_000_000, numEval: 200_000,
        slotSizes: [203931, 18598, 14092, 7012, 18977, 4, 6385, 1245, 49, 186213, 71328, 67288, 11, 2168,
                    7338, 61, 4, 932, 15, 204515, 141526, 199433, 60919, 9137, 71, 34].map { max($0 / 20, 2) },
        seed: 2026, trainFiles: 4, evalFiles: 1)

    /// Slots per sample: the `slotSizes` ones, then the history and target slots of a sequence.
    public var totalSlots: Int { slotSizes.count + sequenceSlots }

    /// The history and target slots, and their category slots with `sequenceCategories`.
    public var sequenceSlots: Int { sequenceLength > 0 ? (sequenceLength + 1) * (sequenceCategories ? 2 : 1) : 0 }

    /// The `slot_size_array` that turns the Parquet files' per-slot keys into the Norm files' keys.
    public var slotSizeArray: [Int] {
        let history = Array(repeating: 0, count: sequenceLength)
        guard sequenceLength > 0 else { return slotSizes }
        return slotSizes + history + [itemVocabulary] + (sequenceCategories ? history + [Self.itemCategories] : [])
    }

    /// The reader layout of the generated files: `labelDim` labels, `denseDim` dense values and the
    /// sparse inputs `data1`, `data2`, … of `sparseInputs` (one input when it is empty).
    public var layout: DataLayout {
        let nnz = nnzPerSlot + Array(repeating: 1, count: totalSlots - slotSizes.count)
        var start = 0
        let sparse = (sparseInputs.isEmpty ? [nnz.count] : sparseInputs).enumerated().map { k, count in
            defer { start += count }
            return SparseInputLayout(name: "data\(k + 1)", nnzPerSlot: Array(nnz[start ..< start + count]))
        }
        return DataLayout(labelDim: labelDim, denseDim: denseDim, sparse: sparse)
    }

    private enum CodingKeys: String, CodingKey {
        case numTrain, numEval, slotSizes, nnzPerSlot, denseDim, seed, trainFiles, evalFiles, i64Keys, check
        case format, floatLabelDense, compression, rowGroupSize
        case zipfExponent, meanLogit, linearStd, interactionStd, denseStd, interactionPairs, factorDim
        case minExpectedCount, labelDim, taskStd, sparseInputs, sequenceLength, itemVocabulary, sequenceStd, sequenceCategories
        case fixedHotness, meanCombiner
    }

    /// Decodes a config where only `numTrain`, `numEval` and `slotSizes` are required, so a
    /// hand-written JSON file can rely on the defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SyntheticConfig(numTrain: 0, numEval: 0, slotSizes: [])
        self.init(numTrain: try c.decode(Int.self, forKey: .numTrain),
                  numEval: try c.decode(Int.self, forKey: .numEval),
                  slotSizes: try c.decode([Int].self, forKey: .slotSizes),
                  nnzPerSlot: try c.decodeIfPresent([Int].self, forKey: .nnzPerSlot),
                  denseDim: try c.decodeIfPresent(Int.self, forKey: .denseDim) ?? d.denseDim,
                  seed: try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed,
                  trainFiles: try c.decodeIfPresent(Int.self, forKey: .trainFiles) ?? d.trainFiles,
                  evalFiles: try c.decodeIfPresent(Int.self, forKey: .evalFiles) ?? d.evalFiles,
                  i64Keys: try c.decodeIfPresent(Bool.self, forKey: .i64Keys) ?? d.i64Keys,
                  check: try c.decodeIfPresent(CheckType.self, forKey: .check) ?? d.check,
                  format: try c.decodeIfPresent(SyntheticFormat.self, forKey: .format) ?? d.format,
                  floatLabelDense: try c.decodeIfPresent(Bool.self, forKey: .floatLabelDense) ?? d.floatLabelDense,
                  compression: try c.decodeIfPresent(String.self, forKey: .compression) ?? d.compression,
                  rowGroupSize: try c.decodeIfPresent(Int.self, forKey: .rowGroupSize) ?? d.rowGroupSize,
                  zipfExponent: try c.decodeIfPresent(Double.self, forKey: .zipfExponent) ?? d.zipfExponent,
                  meanLogit: try c.decodeIfPresent(Double.self, forKey: .meanLogit) ?? d.meanLogit,
                  linearStd: try c.decodeIfPresent(Double.self, forKey: .linearStd) ?? d.linearStd,
                  interactionStd: try c.decodeIfPresent(Double.self, forKey: .interactionStd) ?? d.interactionStd,
                  denseStd: try c.decodeIfPresent(Double.self, forKey: .denseStd) ?? d.denseStd,
                  interactionPairs: try c.decodeIfPresent(Int.self, forKey: .interactionPairs) ?? d.interactionPairs,
                  factorDim: try c.decodeIfPresent(Int.self, forKey: .factorDim) ?? d.factorDim,
                  minExpectedCount: try c.decodeIfPresent(Double.self, forKey: .minExpectedCount) ?? d.minExpectedCount,
                  labelDim: try c.decodeIfPresent(Int.self, forKey: .labelDim) ?? d.labelDim,
                  taskStd: try c.decodeIfPresent(Double.self, forKey: .taskStd) ?? d.taskStd,
                  sparseInputs: try c.decodeIfPresent([Int].self, forKey: .sparseInputs) ?? d.sparseInputs,
                  sequenceLength: try c.decodeIfPresent(Int.self, forKey: .sequenceLength) ?? d.sequenceLength,
                  itemVocabulary: try c.decodeIfPresent(Int.self, forKey: .itemVocabulary) ?? d.itemVocabulary,
                  sequenceStd: try c.decodeIfPresent(Double.self, forKey: .sequenceStd) ?? d.sequenceStd,
                  sequenceCategories: try c.decodeIfPresent(Bool.self, forKey: .sequenceCategories) ?? false)
        fixedHotness = try c.decodeIfPresent(Bool.self, forKey: .fixedHotness) ?? false
        meanCombiner = try c.decodeIfPresent(Bool.self, forKey: .meanCombiner) ?? false
    }

    /// Encodes every setting, except the shape options where they have their defaults, so a
    /// one-label, one-input dataset's `dataset.json` reads as before they existed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(numTrain, forKey: .numTrain)
        try c.encode(numEval, forKey: .numEval)
        try c.encode(slotSizes, forKey: .slotSizes)
        try c.encode(nnzPerSlot, forKey: .nnzPerSlot)
        try c.encode(denseDim, forKey: .denseDim)
        try c.encode(seed, forKey: .seed)
        try c.encode(trainFiles, forKey: .trainFiles)
        try c.encode(evalFiles, forKey: .evalFiles)
        try c.encode(i64Keys, forKey: .i64Keys)
        try c.encode(check, forKey: .check)
        try c.encode(format, forKey: .format)
        try c.encode(floatLabelDense, forKey: .floatLabelDense)
        try c.encode(compression, forKey: .compression)
        try c.encode(rowGroupSize, forKey: .rowGroupSize)
        try c.encode(zipfExponent, forKey: .zipfExponent)
        try c.encode(meanLogit, forKey: .meanLogit)
        try c.encode(linearStd, forKey: .linearStd)
        try c.encode(interactionStd, forKey: .interactionStd)
        try c.encode(denseStd, forKey: .denseStd)
        try c.encode(interactionPairs, forKey: .interactionPairs)
        try c.encode(factorDim, forKey: .factorDim)
        try c.encode(minExpectedCount, forKey: .minExpectedCount)
        let d = SyntheticConfig(numTrain: 0, numEval: 0, slotSizes: [])
        if labelDim != d.labelDim || taskStd != d.taskStd {
            try c.encode(labelDim, forKey: .labelDim)
            try c.encode(taskStd, forKey: .taskStd)
        }
        if !sparseInputs.isEmpty { try c.encode(sparseInputs, forKey: .sparseInputs) }
        if sequenceLength != d.sequenceLength || itemVocabulary != d.itemVocabulary || sequenceStd != d.sequenceStd {
            try c.encode(sequenceLength, forKey: .sequenceLength)
            try c.encode(itemVocabulary, forKey: .itemVocabulary)
            try c.encode(sequenceStd, forKey: .sequenceStd)
            if sequenceCategories { try c.encode(true, forKey: .sequenceCategories) }
        }
        if fixedHotness { try c.encode(true, forKey: .fixedHotness) }
        if meanCombiner { try c.encode(true, forKey: .meanCombiner) }
    }

    /// Throws a ``DataError`` naming the first unusable setting.
    public func validate() throws {
        func bad(_ what: String, _ found: String, _ fix: String) -> DataError {
            DataError("synthetic config: \(what)", found: found, fix: fix)
        }
        guard !slotSizes.isEmpty, slotSizes.allSatisfy({ $0 >= 1 && $0 <= Int(UInt32.max) }) else {
            throw bad("every slot size must be in 1...\(UInt32.max)", "\(slotSizes)", "Give each slot a positive cardinality.")
        }
        guard nnzPerSlot.count == slotSizes.count, nnzPerSlot.allSatisfy({ $0 >= 1 }) else {
            throw bad("nnzPerSlot needs one value ≥ 1 per slot (\(slotSizes.count))", "\(nnzPerSlot)",
                      "Use 1 for one-hot slots.")
        }
        guard trainFiles >= 1, evalFiles >= 1, numTrain >= trainFiles, numEval >= evalFiles else {
            throw bad("each split needs at least one file and one sample per file",
                      "numTrain \(numTrain) in \(trainFiles) files, numEval \(numEval) in \(evalFiles) files",
                      "Raise the sample counts or lower the file counts.")
        }
        guard denseDim >= 0, factorDim >= 1, interactionPairs >= 0 else {
            throw bad("denseDim and interactionPairs must be ≥ 0 and factorDim ≥ 1",
                      "denseDim \(denseDim), interactionPairs \(interactionPairs), factorDim \(factorDim)", "Fix the values.")
        }
        let knobs = [zipfExponent, linearStd, interactionStd, denseStd, minExpectedCount, taskStd, sequenceStd]
        guard zipfExponent > 0, knobs.allSatisfy({ $0.isFinite && $0 >= 0 }), meanLogit.isFinite else {
            throw bad("zipfExponent must be > 0 and the signal settings finite and ≥ 0",
                      "zipfExponent \(zipfExponent), stds \(linearStd)/\(interactionStd)/\(denseStd)/\(taskStd)/\(sequenceStd), minExpectedCount \(minExpectedCount)",
                      "Fix the values.")
        }
        guard labelDim >= 1 else {
            throw bad("labelDim must be at least 1", "\(labelDim)", "Use 1 for one label, or the number of tasks.")
        }
        guard sequenceLength >= 0, sequenceLength == 0 || (Self.itemCategories ... Int(UInt32.max)).contains(itemVocabulary) else {
            throw bad("sequenceLength must be ≥ 0, and itemVocabulary ≥ \(Self.itemCategories) (one item per category) with a sequence",
                      "sequenceLength \(sequenceLength), itemVocabulary \(itemVocabulary)",
                      "Use sequenceLength 0 for no history, or raise itemVocabulary.")
        }
        guard sparseInputs.isEmpty || (sparseInputs.allSatisfy { $0 >= 1 } && sparseInputs.reduce(0, +) == totalSlots) else {
            throw bad("sparseInputs must be positive slot counts summing to the \(totalSlots) slots"
                      + (sequenceLength > 0 ? " (\(slotSizes.count) + \(sequenceLength) history + 1 target)" : ""),
                      "\(sparseInputs) (sum \(sparseInputs.reduce(0, +)))", "Give counts that add up to \(totalSlots), or none for one input.")
        }
        guard ParquetCompression(writing: compression) != nil else {
            throw bad("compression must be none, snappy or zstd", "'\(compression)'", "Use one of those.")
        }
        guard rowGroupSize >= 1 else {
            throw bad("rowGroupSize must be at least 1", "\(rowGroupSize)", "Use a positive row count, e.g. 65536.")
        }
        guard format != .raw || nnzPerSlot.allSatisfy({ $0 == 1 }) else {
            throw bad("Raw samples are one-hot: nnzPerSlot must be 1 in every slot", "\(nnzPerSlot)", "Use nnz 1, or the Norm format.")
        }
        guard i64Keys || slotSizeArray.reduce(0, +) <= Int(UInt32.max) + 1 else {
            throw bad("the key space does not fit in uint32 keys", "Σ slotSizeArray = \(slotSizeArray.reduce(0, +))",
                      "Set i64Keys to true.")
        }
    }
}

/// The file format ``SyntheticGenerator`` writes.
///
/// ```swift
/// var config = SyntheticConfig.default
/// config.format = .raw            // train_data.bin and eval_data.bin
/// config.format = .parquet        // train/part_0.parquet …, read with slot_size_array
/// ```
public enum SyntheticFormat: String, Codable, Sendable {
    /// Norm files under `train/` and `eval/` with `train_list.txt` and `eval_list.txt` (§3.3).
    case norm
    /// One Raw file per split, `train_data.bin` and `eval_data.bin` (§3.4): one-hot, no header.
    case raw
    /// Parquet files, `_file_list.txt` and `_metadata.json` in `train/` and `eval/`, as HugeCTR's
    /// generator writes them: keys are per slot (`0 ..< slotSizes[s]`), so a reader adds
    /// `slot_size_array = slotSizes` to get the Norm files' keys.
    case parquet
}
