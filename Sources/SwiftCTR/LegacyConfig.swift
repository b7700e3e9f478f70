import Foundation

/// A legacy full configuration (HugeCTR ≤ v3.0's `huge_ctr --train config.json`, spec §2.6): the
/// graph of `GraphConfig` plus the `solver` block, the model's `optimizer` block (learning rate and
/// schedule inside its `<type>_hparam`) and the data-source keys of the Data layer. `makeModel`
/// returns a `Model` ready to compile; `fit` holds the solver's loop settings.
///
/// ```swift
/// let config = try LegacyConfig(file: "dcn_1gpu.json")
/// config.warnings.forEach { print("warning:", $0) }
/// let model = try config.makeModel()
/// try model.compile()
/// try model.fit(config.fit)
/// ```
public struct LegacyConfig: Sendable {
    public var graph: GraphConfig
    public var solver: Solver
    public var optimizer: OptimizerParams
    public var reader: DataReaderParams
    public var fit: FitSettings
    /// The model files the solver block names, by key (`dense_model_file`, `sparse_model_file`,
    /// `dense_opt_states_file`, `sparse_opt_states_file`), loaded by `loadModelFiles(into:)`.
    public var modelFiles: [String: [String]]
    /// The graph's warnings, then the solver's and the optimizer's.
    public var warnings: [String]

    /// Whether `root` is a legacy full configuration (it has a `solver` block) rather than graph JSON.
    public static func isLegacy(_ root: JSONValue) -> Bool {
        if case .object(let members) = root { members["solver"] != nil } else { false }
    }

    /// Reads `file`. Relative `source` / `eval_source` paths that do not exist from the working
    /// directory are tried against the file's folder.
    public init(file: String) throws {
        try self.init(file: file, root: JSONValue(file: file))
    }

    /// `file`'s text already parsed into `root`.
    init(file: String, root: JSONValue) throws {
        try self.init(hugeCTRJSON: root, folder: (file as NSString).deletingLastPathComponent)
    }

    public init(hugeCTRJSON root: JSONValue, folder: String = "") throws {
        guard case .object(let members) = root, members["solver"] != nil else {
            throw SwiftCTRError(.config, "legacy configuration: expected an object with \"solver\", \"optimizer\" and \"layers\", found \(root.summary.hasPrefix("an object") ? "no \"solver\" block" : root.summary). Add the solver block, or read the file as graph JSON.")
        }
        let top = JSONEntryReader(members, path: "", where: "legacy configuration")
        let solverBlock = try top.object("solver")
        var (solver, fit, modelFiles) = try Self.solver(solverBlock)
        let optimizerBlock = try top.object("optimizer")
        let (optimizer, schedule) = try OptimizerParams.decodeHugeCTRJSON(optimizerBlock, legacy: true)
        schedule?.apply(to: &solver)
        graph = try GraphConfig(hugeCTRJSON: root, modelOptimizer: optimizer)
        solver.modelName = graph.modelName
        let layers = try top.required("layers", "an array of layer objects", { $0.arrayValue(\.objectValue) })
        reader = try DataReaderParams(legacyDataLayer: JSONEntryReader(layers[0], path: "", where: "data layer 0"), folder: folder)
        (self.solver, self.optimizer, self.fit, self.modelFiles) = (solver, optimizer, fit, modelFiles)
        warnings = graph.warnings + (solverBlock.unknownKeys() + optimizerBlock.unknownKeys()).map {
            "\(top.place): key '\($0)' is not known to SwiftCTR and is ignored."
        }
    }

    /// A model with this configuration's solver, reader and optimizer and its graph added, ready
    /// to compile. `backend` as in `Model.init` (nil: the solver's `devices`).
    public func makeModel(backend: (any Backend)? = nil) throws -> Model {
        let model = try Model(solver, reader, optimizer, backend: backend)
        model.construct(graph)
        return model
    }

    /// The `solver` block (§2.6) as a `Solver`, the loop settings and the model files it names.
    private static func solver(_ block: JSONEntryReader) throws -> (Solver, FitSettings, [String: [String]]) {
        func fail(_ message: String) -> SwiftCTRError { SwiftCTRError(.config, "solver block: " + message) }
        let integer = { (key: String) in try block.optional(key, "an integer", \.intValue) }
        let flag = { (key: String) in try block.optional(key, "true or false", \.boolValue) }
        var solver = Solver()
        _ = try block.optional("lr_policy", "\"fixed\"", { $0.stringValue == "fixed" ? "fixed" : nil })
        solver.batchsize = try block.required("batchsize", "an integer", \.intValue)
        solver.batchsizeEval = try integer("batchsize_eval") ?? solver.batchsize
        let maxIter = try integer("max_iter"), epochs = try integer("num_epochs")
        if maxIter != nil && epochs != nil {
            throw fail("max_iter and num_epochs are both given; they exclude each other. Keep one.")
        }
        solver.repeatDataset = maxIter != nil
        if try block.optional("eval_batches", "", { $0 }) != nil {
            throw fail("key 'eval_batches' is not a HugeCTR solver key; write max_eval_batches (batches) or max_eval_samples (samples).")
        }
        let evalBatches = try integer("max_eval_batches"), evalSamples = try integer("max_eval_samples")
        solver.maxEvalBatches = evalBatches ?? evalSamples.map { $0 / max(solver.batchsizeEval, 1) } ?? solver.maxEvalBatches
        if let gpus = try block.optional("gpu", "a list of GPU ids ([0, 1]) or of lists ([[0, 1], [0, 1]])",
                                         { $0.arrayValue(\.intValue).map { [$0] } ?? $0.arrayValue { $0.arrayValue(\.intValue) } }) {
            solver.vvgpu = gpus
        }
        solver.seed = UInt64(max(try integer("seed") ?? 0, 0))
        if let scaler = try integer("mixed_precision") {
            guard [128, 256, 512, 1024].contains(scaler) else {
                throw fail("key 'mixed_precision': expected the loss scaler 128, 256, 512 or 1024, found \(scaler).")
            }
            (solver.useMixedPrecision, solver.mixedPrecisionType, solver.scaler) = (true, .float16, Float(scaler))
        }
        solver.enableTF32Compute = try flag("enable_tf32_compute") ?? false
        solver.i64InputKey = try block.optional("input_key_type", "\"I32\" or \"I64\"",
                                                { ["I32": false, "I64": true][$0.stringValue ?? ""] }) ?? false
        if let metrics = try block.optional("eval_metrics", "an array of strings such as \"AUC:0.8025\", \"AverageLoss\"",
                                            { $0.arrayValue { $0.stringValue.flatMap(Self.metric) } }) {
            solver.metricsSpec = Dictionary(metrics, uniquingKeysWith: { _, last in last })
        }
        if let threshold = try block.optional("auc_threshold", "a number", \.floatValue) { solver.metricsSpec[.auc] = threshold }
        solver.useAlgorithmSearch = try flag("algorithm_search") ?? true
        solver.useCudaGraph = try flag("cuda_graph") ?? true
        _ = try block.optional("device_layout", "\"LocalFirst\" or \"NodeFirst\"",
                               { ["LocalFirst", "NodeFirst"].contains($0.stringValue ?? "") ? true : nil })
        _ = try block.optional("export_predictions_prefix", "a string", \.stringValue)
        var files: [String: [String]] = [:]
        for key in ["dense_model_file", "dense_opt_states_file", "sparse_model_file", "sparse_opt_states_file"] {
            files[key] = try block.optional(key, "a file name or an array of names", \.namesValue)
        }
        let fit = FitSettings(numEpochs: maxIter == nil ? (epochs ?? 1) : 0, maxIter: maxIter ?? 0,
                              display: try integer("display") ?? 200, evalInterval: try integer("eval_interval") ?? 1000,
                              snapshot: try integer("snapshot") ?? 10000,
                              snapshotPrefix: try block.optional("snapshot_prefix", "a string", \.stringValue) ?? "")
        return (solver, fit, files)
    }

    /// `"AUC:0.8025"` → (.auc, 0.8025); a metric without a threshold gets 1.0 (AUC) or 0.
    private static func metric(_ text: String) -> (MetricsType, Float)? {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let type = parts.first.flatMap(MetricsType.init(rawValue:)) else { return nil }
        guard parts.count == 2 else { return (type, type == .auc ? 1 : 0) }
        return Float(parts[1]).map { (type, $0) }
    }
}

/// The loop settings of HugeCTR's `fit` (a legacy solver block carries them).
///
/// ```swift
/// try model.fit(FitSettings(maxIter: 2300, display: 200, evalInterval: 1000))
/// ```
public struct FitSettings: Sendable, Equatable {
    /// Passes over the data when the solver's `repeatDataset` is false.
    public var numEpochs: Int
    public var maxIter: Int
    public var display: Int
    public var evalInterval: Int
    public var snapshot: Int
    public var snapshotPrefix: String

    public init(numEpochs: Int = 0, maxIter: Int = 2000, display: Int = 200, evalInterval: Int = 1000, snapshot: Int = 10000,
                snapshotPrefix: String = "") {
        (self.numEpochs, self.maxIter, self.display) = (numEpochs, maxIter, display)
        (self.evalInterval, self.snapshot, self.snapshotPrefix) = (evalInterval, snapshot, snapshotPrefix)
    }
}

extension LegacyConfig {
    /// Loads the model files the solver block names into `model` (compiled from this config):
    /// dense weights, then sparse tables, then the optimizer states, as HugeCTR does at start-up.
    public func loadModelFiles(into model: Model) throws {
        if let dense = modelFiles["dense_model_file"]?.first { try model.loadDenseWeights(dense) }
        if let sparse = modelFiles["sparse_model_file"] { try model.loadSparseWeights(sparse) }
        if let dense = modelFiles["dense_opt_states_file"]?.first { try model.loadDenseOptimizerStates(dense) }
        if let sparse = modelFiles["sparse_opt_states_file"] { try model.loadSparseOptimizerStates(sparse) }
    }
}

extension Model {
    /// `fit` with `settings`.
    @discardableResult
    public func fit(_ settings: FitSettings) throws -> [TrainingRecord] {
        try fit(numEpochs: settings.numEpochs, maxIter: settings.maxIter, display: settings.display,
                evalInterval: settings.evalInterval, snapshot: settings.snapshot, snapshotPrefix: settings.snapshotPrefix)
    }
}

extension DataReaderParams {
    /// The Data-layer keys of a legacy configuration that describe the data source.
    static let legacyDataLayerKeys = ["source", "eval_source", "check", "format", "num_workers", "slot_size_array",
                                      "num_samples", "eval_num_samples", "float_label_dense", "cache_eval_data", "async_param"]

    /// The data source of a legacy Data layer (§2.6). A relative path missing from the working
    /// directory is taken relative to `folder` when it exists there.
    init(legacyDataLayer reader: JSONEntryReader, folder: String) throws {
        func resolve(_ path: String) -> String {
            let local = (folder as NSString).appendingPathComponent(path)
            let fm = FileManager.default
            return path.hasPrefix("/") || folder.isEmpty || fm.fileExists(atPath: path) || !fm.fileExists(atPath: local) ? path : local
        }
        let formats = "\"Norm\", \"Raw\", \"Parquet\" or \"RawAsync\""
        let integer = { (key: String) in try reader.optional(key, "an integer", \.intValue) }
        self.init(
            dataReaderType: try reader.optional("format", formats, { $0.stringValue.flatMap(DataReaderType.init(rawValue:)) }) ?? .norm,
            source: try reader.required("source", "a file list path or an array of paths", \.namesValue).map(resolve),
            evalSource: resolve(try reader.required("eval_source", "a file list path", \.stringValue)),
            checkType: try reader.optional("check", "\"Sum\" or \"None\"", { $0.stringValue.flatMap(CheckType.init(rawValue:)) }) ?? .sum,
            cacheEvalData: try integer("cache_eval_data") ?? 0, numSamples: try integer("num_samples") ?? 0,
            evalNumSamples: try integer("eval_num_samples") ?? 0,
            floatLabelDense: try reader.optional("float_label_dense", "true or false", \.boolValue) ?? false,
            numWorkers: try integer("num_workers") ?? 12,
            slotSizeArray: try reader.optional("slot_size_array", "an array of integers", { $0.arrayValue(\.intValue) }) ?? [])
    }
}
