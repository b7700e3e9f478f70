import CTRCore
import Foundation

/// Where a generated dataset lives and how well its true model scores on the eval split.
///
/// ```swift
/// let ds = try SyntheticGenerator.generate(.default, into: "data/synth")
/// print(ds.oracleAUC)   // ≈ 0.8
/// ```
public struct GeneratedDataset: Sendable {
    public var directory: String
    /// The training source: the file list (Norm) or the data file itself (Raw).
    public var trainList: String
    /// The evaluation source, as `trainList`.
    public var evalList: String
    public var trainFiles: [String]
    public var evalFiles: [String]
    public var datasetJSON: String
    public var oracleJSON: String
    public var layout: DataLayout
    /// Exact AUC of the true probabilities on the eval split: the best any model can expect (label 0).
    public var oracleAUC: Double
    /// ``oracleAUC`` of each label, `labelDim` values.
    public var taskOracleAUCs: [Double]
    /// AUC of the dense part of the true logit alone.
    public var denseOnlyAUC: Double
    /// Mean log loss of the true probabilities on the eval split.
    public var oracleLogLoss: Double
    public var trainPositiveRate: Double
    public var evalPositiveRate: Double
}

/// Writes a Norm or Raw dataset with a planted, learnable signal (see ``SyntheticConfig``), plus
/// `dataset.json` (the config) and `oracle.json` (the true model's eval AUC). Raw files with
/// int32 dense values hold `x = round(e^(z+2) − 1)` clamped at 0 for a normal draw `z`, and the
/// signal uses the feature the reader sees, `log(x + 1) − 2`.
///
/// Sample `i` of a split draws all its randomness from `(seed, split, i)`, so the files are
/// identical whatever the thread scheduling.
///
/// ```swift
/// let ds = try SyntheticGenerator.generate(config, into: "/tmp/synth") { print($0) }
/// let reader = try BatchReader(fileList: ds.trainList, layout: ds.layout, i64Keys: config.i64Keys,
///                              check: config.check, batchSize: 4096, repeat: false)
/// ```
public enum SyntheticGenerator {
    /// Generates the dataset into `directory` (created if needed; existing files are replaced).
    /// `progress` receives the finished fraction, serialized, from worker threads.
    public static func generate(_ config: SyntheticConfig, into directory: String,
                                progress: ((Double) -> Void)? = nil) throws -> GeneratedDataset {
        try config.validate()
        let fm = FileManager.default
        for sub in config.format == .raw ? [""] : ["", "train", "eval"] {
            let folder = sub.isEmpty ? directory : (directory as NSString).appendingPathComponent(sub)
            do {
                try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw DataError(file: folder, "cannot create the dataset folder: \(error)", fix: "Check the path and permissions.")
            }
        }
        let model = PlantedModel(config)
        let tasks = fileTasks(config)
        let results = TaskResults(count: tasks.count, progress: progress, total: config.numTrain + config.numEval)
        DispatchQueue.concurrentPerform(iterations: tasks.count) { t in
            results.store(t, Result { try model.write(tasks[t], in: directory, config: config, results: results) })
        }
        let outcomes = try results.collect()

        var trainPositives = 0.0
        var taskProbabilities = [[Double]](repeating: [], count: config.labelDim)
        var taskLabels = [[Float]](repeating: [], count: config.labelDim)
        var denseLogits: [Double] = []
        for (task, outcome) in zip(tasks, outcomes) {
            if task.isEval {
                for k in 0 ..< config.labelDim {
                    taskProbabilities[k] += outcome.probabilities[k]
                    taskLabels[k] += outcome.labels[k]
                }
                denseLogits += outcome.denseLogits
            } else {
                trainPositives += outcome.positives
            }
        }
        let (probabilities, labels) = (taskProbabilities[0], taskLabels[0])
        var logLoss = 0.0
        for (p, y) in zip(probabilities, labels) {
            logLoss -= y > 0.5 ? log(max(p, 1e-15)) : log(max(1 - p, 1e-15))
        }
        let taskAUCs = zip(taskProbabilities, taskLabels).map { exactAUC(predictions: $0, labels: $1) }
        let oracle = OracleReport(
            evalAUC: taskAUCs[0],
            denseOnlyAUC: exactAUC(predictions: denseLogits, labels: labels),
            evalLogLoss: logLoss / Double(labels.count),
            trainPositiveRate: trainPositives / Double(config.numTrain),
            evalPositiveRate: Double(labels.reduce(0, +)) / Double(labels.count),
            taskAUCs: config.labelDim > 1 ? taskAUCs : nil)

        let path = { (name: String) in (directory as NSString).appendingPathComponent(name) }
        let trainNames = tasks.filter { !$0.isEval }.map(\.relativePath)
        let evalNames = tasks.filter(\.isEval).map(\.relativePath)
        var sources = (train: path(trainNames[0]), eval: path(evalNames[0]))
        switch config.format {
        case .raw: break
        case .norm:
            sources = (path("train_list.txt"), path("eval_list.txt"))
            try FileList.write(trainNames, to: sources.train)
            try FileList.write(evalNames, to: sources.eval)
        case .parquet:
            sources = (path("train/_file_list.txt"), path("eval/_file_list.txt"))
            for (split, list, tasksOfSplit) in [("train", sources.train, tasks.filter { !$0.isEval }), ("eval", sources.eval, tasks.filter(\.isEval))] {
                let names = tasksOfSplit.map { ($0.relativePath as NSString).lastPathComponent }
                try FileList.write(names, to: list)
                try parquetMetadata(config, files: Dictionary(uniqueKeysWithValues: zip(names, tasksOfSplit.map(\.samples.count))))
                    .write(folder: path(split))
            }
        }
        try writeJSON(config, to: path("dataset.json"))
        try writeJSON(oracle, to: path("oracle.json"))
        return GeneratedDataset(
            directory: directory, trainList: sources.train, evalList: sources.eval,
            trainFiles: trainNames.map(path), evalFiles: evalNames.map(path),
            datasetJSON: path("dataset.json"), oracleJSON: path("oracle.json"), layout: config.layout,
            oracleAUC: oracle.evalAUC, taskOracleAUCs: taskAUCs, denseOnlyAUC: oracle.denseOnlyAUC, oracleLogLoss: oracle.evalLogLoss,
            trainPositiveRate: oracle.trainPositiveRate, evalPositiveRate: oracle.evalPositiveRate)
    }

    /// The config and oracle eval AUC of a dataset written by ``generate(_:into:progress:)``.
    public static func load(directory: String) throws -> (SyntheticConfig, oracleAUC: Double) {
        let config = try readJSON(SyntheticConfig.self, from: (directory as NSString).appendingPathComponent("dataset.json"))
        let oracle = try readJSON(OracleReport.self, from: (directory as NSString).appendingPathComponent("oracle.json"))
        return (config, oracle.evalAUC)
    }

    /// The oracle eval AUC of each label of a dataset with several (empty for one label).
    public static func taskOracleAUCs(directory: String) throws -> [Double] {
        try readJSON(OracleReport.self, from: (directory as NSString).appendingPathComponent("oracle.json")).taskAUCs ?? []
    }

    /// The `_metadata.json` of the Parquet files the generator writes: label (label0…), I1…, C1… in order.
    public static func parquetMetadata(_ config: SyntheticConfig, files: [String: Int]) -> ParquetDatasetMetadata {
        ParquetDatasetMetadata(fileRows: files, labels: config.labelDim, denseDim: config.denseDim, slots: config.totalSlots)
    }

    private static func fileTasks(_ config: SyntheticConfig) -> [FileTask] {
        if config.format == .raw {
            return [FileTask(relativePath: "eval_data.bin", isEval: true, samples: 0 ..< config.numEval),
                    FileTask(relativePath: "train_data.bin", isEval: false, samples: 0 ..< config.numTrain)]
        }
        let suffix = config.format == .parquet ? "parquet" : "bin"
        func split(_ name: String, _ samples: Int, _ files: Int, isEval: Bool) -> [FileTask] {
            (0 ..< files).map { k in
                FileTask(relativePath: "\(name)/part_\(k).\(suffix)", isEval: isEval,
                         samples: samples * k / files ..< samples * (k + 1) / files)
            }
        }
        // Eval files first: they are fewer, so the long train tasks fill in behind them.
        return split("eval", config.numEval, config.evalFiles, isEval: true)
            + split("train", config.numTrain, config.trainFiles, isEval: false)
    }

    private static func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DataError(file: path, "cannot write JSON: \(error)", fix: "Check that the folder is writable.")
        }
    }

    private static func readJSON<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, "file not found", fix: "Generate the dataset first (SyntheticGenerator.generate).")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw DataError(file: path, "malformed JSON: \(error)", fix: "Regenerate the dataset.")
        }
    }
}

private struct OracleReport: Codable {
    var evalAUC: Double
    var denseOnlyAUC: Double
    var evalLogLoss: Double
    var trainPositiveRate: Double
    var evalPositiveRate: Double
    /// The eval AUC of each label's true probabilities; absent for one label.
    var taskAUCs: [Double]?

    enum CodingKeys: String, CodingKey {
        case evalAUC = "eval_auc"
        case denseOnlyAUC = "eval_auc_dense_only_oracle"
        case evalLogLoss = "eval_logloss_oracle"
        case trainPositiveRate = "train_positive_rate"
        case evalPositiveRate = "eval_positive_rate"
        case taskAUCs = "eval_auc_per_task"
    }
}

/// What the generator writes samples to.
protocol SampleSink {
    func append(labels: [Float], dense: [Float], keys: [Int64], slotNNZ: [Int]) throws
    func finish() throws
}

extension NormWriter: SampleSink {}

/// A Parquet writer given global keys that stores per-slot keys: each key less its slot's start
/// in the global key range, as HugeCTR's Parquet files hold them.
final class ParquetSink: SampleSink {
    let writer: ParquetWriter
    let slotStart: [Int]
    private var local: [Int64] = []

    init(_ writer: ParquetWriter, slotStart: [Int]) {
        self.writer = writer
        self.slotStart = slotStart
    }

    func append(labels: [Float], dense: [Float], keys: [Int64], slotNNZ: [Int]) throws {
        local.removeAll(keepingCapacity: true)
        var i = 0
        for (s, n) in slotNNZ.enumerated() {
            for _ in 0 ..< n {
                local.append(keys[i] - Int64(slotStart[s]))
                i += 1
            }
        }
        try writer.append(labels: labels, dense: dense, keys: local, slotNNZ: slotNNZ)
    }

    func finish() throws { try writer.finish() }
}

private struct FileTask: Sendable {
    var relativePath: String
    var isEval: Bool
    var samples: Range<Int>
}

private struct TaskOutcome: Sendable {
    /// Positives of label 0.
    var positives = 0.0
    /// The eval samples' true probabilities and labels, one array per label.
    var probabilities: [[Double]]
    var labels: [[Float]]
    var denseLogits: [Double] = []

    init(labelDim: Int) {
        probabilities = Array(repeating: [], count: labelDim)
        labels = Array(repeating: [], count: labelDim)
    }
}

/// Outcomes of the concurrent file tasks and the shared progress count.
private final class TaskResults: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [Result<TaskOutcome, any Error>?]
    private var done = 0
    private let total: Int
    private let progress: ((Double) -> Void)?

    init(count: Int, progress: ((Double) -> Void)?, total: Int) {
        outcomes = Array(repeating: nil, count: count)
        self.progress = progress
        self.total = total
    }

    func store(_ index: Int, _ outcome: Result<TaskOutcome, any Error>) {
        lock.lock()
        outcomes[index] = outcome
        lock.unlock()
    }

    func advance(by samples: Int) {
        guard let progress else { return }
        lock.lock()
        defer { lock.unlock() }
        done += samples
        progress(Double(done) / Double(max(total, 1)))
    }

    func collect() throws -> [TaskOutcome] {
        try outcomes.map { outcome in
            guard let outcome else { throw DataError("a generator task did not run") }
            return try outcome.get()
        }
    }
}

/// The true model. Per-rank tables of all slots live in flat buffers (slot `s` at
/// `slotStart[s] ..< slotStart[s] + slotSizes[s]`) so the per-sample loop touches no reference counts.
private final class PlantedModel: @unchecked Sendable {
    let slotStart: [Int]
    let slotSize: [Int]
    let nnz: [Int]
    let fixedHotness: Bool
    let meanCombiner: Bool
    /// Start of slot `s`'s factors (`rank * factorDim + d`), or -1 when the slot is in no pair.
    let factorStart: [Int]
    let pairs: [(Int, Int)]
    let denseWeights: [Double]
    let intercept: Double
    /// Label `k ≥ 1`: its intercept at `k − 1`, and at `(k − 1) · slots + s` its slot-`s` linear factor less 1.
    let taskIntercepts: [Double]
    let taskSlotDeltas: [Double]
    let sequenceLength: Int
    let itemVocabulary: Int
    /// Global key of item 0, and the scale and mean of the standardized target-history match fraction.
    let itemStart: Int64
    let sequenceScale: Double
    let sequenceMean: Double
    let factorDim: Int
    let seed: UInt64
    /// Cumulative rank probabilities, ending at exactly 1 in every slot.
    let cumulative: UnsafeMutableBufferPointer<Double>
    let keyOfRank: UnsafeMutableBufferPointer<Int64>
    let weight: UnsafeMutableBufferPointer<Double>
    let factors: UnsafeMutableBufferPointer<Double>

    private static let permutationStream: UInt64 = 0x5EED_0001 << 32
    private static let weightStream: UInt64 = 0x5EED_0002 << 32
    private static let factorStream: UInt64 = 0x5EED_0003 << 32
    private static let pairStream: UInt64 = 0x5EED_0004 << 32
    private static let denseStream: UInt64 = 0x5EED_0005 << 32
    private static let taskStream: UInt64 = 0x5EED_0006 << 32
    /// How often history items and the target come from the sample's interest category.
    private static let historyAffinity = 0.7
    private static let targetAffinity = 0.5
    private static let trainStream: UInt64 = 1 << 56
    private static let evalStream: UInt64 = 2 << 56

    init(_ config: SyntheticConfig) {
        seed = config.seed
        factorDim = config.factorDim
        nnz = config.nnzPerSlot
        fixedHotness = config.fixedHotness
        meanCombiner = config.meanCombiner
        slotSize = config.slotSizes
        let D = config.factorDim
        let slotCount = config.slotSizes.count
        let totalKeys = config.slotSizes.reduce(0, +)

        var allPairs: [(Int, Int)] = []
        for s in 0 ..< slotCount { for t in s + 1 ..< slotCount { allPairs.append((s, t)) } }
        var pairRNG = CounterRNG(seed: seed, stream: Self.pairStream)
        for i in stride(from: allPairs.count - 1, to: 0, by: -1) {
            allPairs.swapAt(i, pairRNG.nextInt(below: i + 1))
        }
        pairs = Array(allPairs.prefix(config.interactionPairs))
        var inPair = Array(repeating: false, count: slotCount)
        for (s, t) in pairs { inPair[s] = true; inPair[t] = true }

        var starts: [Int] = []
        var factorStarts: [Int] = []
        var factorCount = 0
        for s in 0 ..< slotCount {
            starts.append(starts.last.map { $0 + config.slotSizes[s - 1] } ?? 0)
            factorStarts.append(inPair[s] ? factorCount : -1)
            if inPair[s] { factorCount += config.slotSizes[s] * D }
        }
        slotStart = starts
        factorStart = factorStarts
        cumulative = .allocate(capacity: totalKeys)
        keyOfRank = .allocate(capacity: totalKeys)
        weight = .allocate(capacity: totalKeys)
        factors = .allocate(capacity: factorCount)

        // Unit-scale weights and factors first, with the moments needed to scale and centre each part.
        var linearMoment = Array(repeating: 0.0, count: slotCount)   // E[k]·Σ p g²
        var linearMean = Array(repeating: 0.0, count: slotCount)     // E[k]·Σ p g z
        var factorMean = Array(repeating: [Double](repeating: 0, count: D), count: slotCount)
        for (s, size) in config.slotSizes.enumerated() {
            let start = starts[s]
            let meanKeys = config.fixedHotness ? Double(config.nnzPerSlot[s]) : Double(config.nnzPerSlot[s] + 1) / 2
            // A slot's part is a sum of k keys' (variance ∝ E[k], mean ∝ E[k]), or with
            // `meanCombiner` their mean (variance ∝ E[1/k], mean as one key's).
            let n = config.nnzPerSlot[s]
            let inverseKeys = config.fixedHotness ? 1 / Double(n) : (1 ... n).reduce(0.0) { $0 + 1 / Double($1) } / Double(n)
            let (momentKeys, meanOfKeys) = config.meanCombiner ? (inverseKeys, 1.0) : (meanKeys, meanKeys)
            var probability = (0 ..< size).map { pow(Double($0 + 1), -config.zipfExponent) }
            let norm = probability.reduce(0, +)
            var running = 0.0
            for r in 0 ..< size {
                probability[r] /= norm
                running += probability[r]
                cumulative[start + r] = running
            }
            cumulative[start + size - 1] = 1

            var permutation = (0 ..< size).map { Int64($0) }
            var permRNG = CounterRNG(seed: seed, stream: Self.permutationStream + UInt64(s))
            for i in stride(from: size - 1, to: 0, by: -1) {
                permutation.swapAt(i, permRNG.nextInt(below: i + 1))
            }
            for r in 0 ..< size {
                let key = permutation[r] + Int64(start)
                keyOfRank[start + r] = key
                weight[start + r] = 0
                if inPair[s] { for d in 0 ..< D { factors[factorStarts[s] + r * D + d] = 0 } }
                let g = Self.fade(expectedCount: probability[r] * Double(config.numTrain) * meanKeys,
                                  threshold: config.minExpectedCount)
                guard g > 0 else { continue }
                var wRNG = CounterRNG(seed: seed, stream: Self.weightStream, counter: UInt64(key) &* 2)
                weight[start + r] = g * wRNG.nextNormal()
                linearMoment[s] += probability[r] * g * g
                linearMean[s] += probability[r] * weight[start + r]
                if inPair[s] {
                    for d in 0 ..< D {
                        var fRNG = CounterRNG(seed: seed, stream: Self.factorStream,
                                              counter: (UInt64(key) &* UInt64(D) &+ UInt64(d)) &* 2)
                        let f = g * fRNG.nextNormal()
                        factors[factorStarts[s] + r * D + d] = f
                        factorMean[s][d] += probability[r] * f
                    }
                }
            }
            linearMoment[s] *= momentKeys
            linearMean[s] *= meanOfKeys
            for d in 0 ..< D { factorMean[s][d] *= meanOfKeys }
        }

        let linearVariance = linearMoment.reduce(0, +)
        let linearScale = linearVariance > 0 ? config.linearStd / linearVariance.squareRoot() : 0
        let pairVariance = pairs.reduce(0.0) { $0 + Double(D) * linearMoment[$1.0] * linearMoment[$1.1] }
        // Each factor is scaled by √scale, so a pair's product is scaled by `scale`.
        let pairScale = pairVariance > 0 ? config.interactionStd / pairVariance.squareRoot() : 0
        let factorScale = pairScale.squareRoot()
        for i in weight.indices { weight[i] *= linearScale }
        for i in factors.indices { factors[i] *= factorScale }
        let linearCentre = linearScale * linearMean.reduce(0, +)
        var centre = linearCentre
        for (s, t) in pairs {
            for d in 0 ..< D { centre += pairScale * factorMean[s][d] * factorMean[t][d] }
        }
        intercept = config.meanLogit - centre

        var taskRNG = CounterRNG(seed: seed, stream: Self.taskStream)
        let deltas = (0 ..< (config.labelDim - 1) * slotCount).map { _ in config.taskStd * taskRNG.nextNormal() }
        taskSlotDeltas = deltas
        taskIntercepts = (1 ..< config.labelDim).map { k in
            let shift = (0 ..< slotCount).reduce(0.0) { $0 + deltas[(k - 1) * slotCount + $1] * linearMean[$1] }
            return config.meanLogit + 0.5 * Double(k) - centre - linearScale * shift
        }

        // Given the target's category, the history's matches are binomial with rate r1 (the target
        // is in the interest category) or r0; the mixture's mean and variance standardize the fraction.
        sequenceLength = config.sequenceLength
        itemVocabulary = config.itemVocabulary
        itemStart = Int64(totalKeys)
        let C = Double(SyntheticConfig.itemCategories)
        let qt = Self.targetAffinity + (1 - Self.targetAffinity) / C
        let (r1, r0) = (Self.historyAffinity + (1 - Self.historyAffinity) / C, (1 - Self.historyAffinity) / C)
        sequenceMean = qt * r1 + (1 - qt) * r0
        let variance = (qt * r1 * (1 - r1) + (1 - qt) * r0 * (1 - r0)) / Double(max(config.sequenceLength, 1))
            + qt * (1 - qt) * (r1 - r0) * (r1 - r0)
        sequenceScale = config.sequenceStd / variance.squareRoot()

        var denseRNG = CounterRNG(seed: seed, stream: Self.denseStream)
        let direction = (0 ..< config.denseDim).map { _ in denseRNG.nextNormal() }
        let length = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        denseWeights = direction.map { length > 0 ? $0 / length * config.denseStd : 0 }
    }

    deinit {
        cumulative.deallocate()
        keyOfRank.deallocate()
        weight.deallocate()
        factors.deallocate()
    }

    /// 0 below `threshold` expected occurrences, 1 above 4×, smooth in log-count between.
    static func fade(expectedCount: Double, threshold: Double) -> Double {
        guard threshold > 0 else { return 1 }
        guard expectedCount > threshold else { return 0 }
        let t = min(log(expectedCount / threshold) / log(4.0), 1)
        return t * t * (3 - 2 * t)
    }

    func write(_ task: FileTask, in directory: String, config: SyntheticConfig, results: TaskResults) throws -> TaskOutcome {
        let path = (directory as NSString).appendingPathComponent(task.relativePath)
        let items = config.sequenceSlots
        // Category slots (with `sequenceCategories`) follow the item slots, keyed after the items.
        let categoryStart = itemStart + Int64(itemVocabulary), categories = config.sequenceCategories && sequenceLength > 0
        let sequenceStarts = Array(repeating: Int(itemStart), count: categories ? items / 2 : items)
            + Array(repeating: Int(categoryStart), count: categories ? items / 2 : 0)
        let writer = try SampleFile(path: path, config: config, slotStart: slotStart + sequenceStarts,
                                    multiHot: nnz.map { $0 > 1 } + Array(repeating: false, count: items))
        var outcome = TaskOutcome(labelDim: config.labelDim)
        if task.isEval {
            for k in 0 ..< config.labelDim {
                outcome.probabilities[k].reserveCapacity(task.samples.count)
                outcome.labels[k].reserveCapacity(task.samples.count)
            }
            outcome.denseLogits.reserveCapacity(task.samples.count)
        }
        let (D, slotStart, slotSize, nnz, factorStart, pairs, denseWeights, meanCombiner) =
            (factorDim, self.slotStart, self.slotSize, self.nnz, self.factorStart, self.pairs, self.denseWeights, self.meanCombiner)
        let (cumulative, keyOfRank, weight, factors) = (self.cumulative, self.keyOfRank, self.weight, self.factors)
        let (taskIntercepts, taskSlotDeltas, L, itemStart, itemVocabulary) =
            (self.taskIntercepts, self.taskSlotDeltas, sequenceLength, self.itemStart, self.itemVocabulary)
        let C = SyntheticConfig.itemCategories
        var label = [Float](repeating: 0, count: config.labelDim)
        var dense = [Float](repeating: 0, count: config.denseDim)
        var keys: [Int64] = []
        keys.reserveCapacity(nnz.reduce(0, +) + items)
        var slotNNZ = [Int](repeating: 1, count: slotSize.count + items)
        var slotLinear = [Double](repeating: 0, count: slotSize.count)
        var factorSums = [Double](repeating: 0, count: slotSize.count * D)
        let stream = task.isEval ? Self.evalStream : Self.trainStream
        var sinceReport = 0
        for i in task.samples {
            var rng = CounterRNG(seed: seed, stream: stream + UInt64(i))
            var logit = intercept
            keys.removeAll(keepingCapacity: true)
            for s in slotSize.indices {
                let count = nnz[s] == 1 || fixedHotness ? nnz[s] : 1 + rng.nextInt(below: nnz[s])
                slotNNZ[s] = count
                let start = slotStart[s]
                let factorBase = factorStart[s]
                if factorBase >= 0 { for d in 0 ..< D { factorSums[s * D + d] = 0 } }
                var linear = 0.0
                for _ in 0 ..< count {
                    let g = start + Self.rank(of: rng.nextUniform(), in: cumulative, start, slotSize[s])
                    keys.append(keyOfRank[g])
                    if !meanCombiner { logit += weight[g] }
                    linear += weight[g]
                    if factorBase >= 0 {
                        let f = factorBase + (g - start) * D
                        for d in 0 ..< D { factorSums[s * D + d] += factors[f + d] }
                    }
                }
                if meanCombiner {
                    let inverse = 1 / Double(count)
                    linear *= inverse
                    logit += linear
                    if factorBase >= 0 { for d in 0 ..< D { factorSums[s * D + d] *= inverse } }
                }
                slotLinear[s] = linear
            }
            for (s, t) in pairs {
                for d in 0 ..< D { logit += factorSums[s * D + d] * factorSums[t * D + d] }
            }
            var denseLogit = 0.0
            for d in dense.indices {
                let z = rng.nextNormal()
                if writer.storesInts {
                    let x = Int32(max(0, min((exp(z + 2) - 1).rounded(), 1e9)))
                    writer.intDense[d] = x
                    dense[d] = log(Float(x) + 1) - 2
                } else {
                    dense[d] = Float(z)
                }
                denseLogit += denseWeights[d] * Double(dense[d])
            }
            logit += denseLogit
            if L > 0 {
                let interest = rng.nextInt(below: C)
                for h in 0 ... L {
                    let affinity = h < L ? Self.historyAffinity : Self.targetAffinity
                    keys.append(itemStart + Int64(Self.item(&rng, interest: interest, affinity: affinity, vocabulary: itemVocabulary)))
                }
                let category = (keys[keys.count - 1] - itemStart) % Int64(C)
                var matches = 0
                for key in keys[keys.count - L - 1 ..< keys.count - 1] where (key - itemStart) % Int64(C) == category { matches += 1 }
                logit += sequenceScale * (Double(matches) / Double(L) - sequenceMean)
                if categories {
                    for key in keys[keys.count - L - 1 ..< keys.count] { keys.append(categoryStart + (key - itemStart) % Int64(C)) }
                }
            }
            for k in label.indices {
                var taskLogit = logit
                if k > 0 {
                    taskLogit += taskIntercepts[k - 1] - intercept
                    for s in slotLinear.indices { taskLogit += taskSlotDeltas[(k - 1) * slotLinear.count + s] * slotLinear[s] }
                }
                let probability = 1 / (1 + exp(-taskLogit))
                label[k] = rng.nextUniform() < probability ? 1 : 0
                if task.isEval {
                    outcome.probabilities[k].append(probability)
                    outcome.labels[k].append(label[k])
                }
            }
            try writer.append(labels: label, dense: dense, keys: keys, slotNNZ: slotNNZ)
            if task.isEval { outcome.denseLogits.append(denseLogit) }
            outcome.positives += Double(label[0])
            sinceReport += 1
            if sinceReport == 16384 {
                results.advance(by: sinceReport)
                sinceReport = 0
            }
        }
        try writer.finish()
        results.advance(by: sinceReport)
        return outcome
    }

    /// An item of the interest category with probability `affinity`, else of a uniform category;
    /// uniform within its category.
    @inline(__always)
    static func item(_ rng: inout CounterRNG, interest: Int, affinity: Double, vocabulary: Int) -> Int {
        let C = SyntheticConfig.itemCategories
        let category = rng.nextUniform() < affinity ? interest : rng.nextInt(below: C)
        return category + C * rng.nextInt(below: (vocabulary - category + C - 1) / C)
    }

    /// First rank in `start ..< start + count` whose cumulative probability exceeds `u`, minus `start`.
    @inline(__always)
    static func rank(of u: Double, in cumulative: UnsafeMutableBufferPointer<Double>, _ start: Int, _ count: Int) -> Int {
        var low = start
        var high = start + count - 1
        while low < high {
            let mid = (low + high) >> 1
            if cumulative[mid] > u { high = mid } else { low = mid + 1 }
        }
        return low - start
    }
}

/// The writer of one generated file, Norm, Raw or Parquet. For int32 Raw files the caller fills
/// ``intDense`` with the integers to store.
private final class SampleFile {
    private let sink: (any SampleSink)?
    private let raw: RawWriter?
    let storesInts: Bool
    var intDense: [Int32]
    private var intLabel: [Int32]

    /// `slotStart` and `multiHot` cover every slot written, the history and target slots included.
    init(path: String, config: SyntheticConfig, slotStart: [Int], multiHot: [Bool]) throws {
        let slots = config.totalSlots
        switch config.format {
        case .norm:
            sink = try NormWriter(path: path, labelDim: config.labelDim, denseDim: config.denseDim, slotNum: slots,
                                  i64Keys: config.i64Keys, check: config.check)
            raw = nil
        case .parquet:
            let writer = try ParquetWriter(path: path, labels: config.labelDim, denseDim: config.denseDim, multiHot: multiHot, i64Keys: config.i64Keys,
                                           compression: ParquetCompression(writing: config.compression) ?? .snappy,
                                           rowGroupSize: config.rowGroupSize)
            sink = ParquetSink(writer, slotStart: slotStart)
            raw = nil
        case .raw:
            raw = try RawWriter(path: path, labelDim: config.labelDim, denseDim: config.denseDim, slotNum: slots,
                                i64Keys: config.i64Keys, floatLabelDense: config.floatLabelDense)
            sink = nil
        }
        storesInts = config.format == .raw && !config.floatLabelDense
        intDense = Array(repeating: 0, count: config.denseDim)
        intLabel = Array(repeating: 0, count: config.labelDim)
    }

    func append(labels: [Float], dense: [Float], keys: [Int64], slotNNZ: [Int]) throws {
        if let sink { return try sink.append(labels: labels, dense: dense, keys: keys, slotNNZ: slotNNZ) }
        guard let raw else { return }
        guard storesInts else { return try raw.append(labels: labels, dense: dense, keys: keys) }
        for (k, label) in labels.enumerated() { intLabel[k] = Int32(label) }
        try raw.append(labels: intLabel, dense: intDense, keys: keys)
    }

    func finish() throws {
        try sink?.finish()
        try raw?.finish()
    }
}
