import Foundation
import SwiftCTR

/// `hugectr.inference.InferenceParams` (spec §1.15): what SwiftCTR reads of it; the cache,
/// database and thread-pool settings of HugeCTR's inference server are accepted and unused.
struct InferenceSettings {
    var modelName: String
    var maxBatchsize: Int
    var denseModelFile: String
    var sparseModelFiles: [String]
    var i64Keys: Bool
    var useMixedPrecision: Bool
    var deviceID: Int

    init(_ kw: inout Keywords) throws {
        modelName = try kw.string("model_name")
        maxBatchsize = try kw.int("max_batchsize")
        _ = try kw.float("hit_rate_threshold")
        denseModelFile = try kw.string("dense_model_file")
        sparseModelFiles = try kw.stringOrList("sparse_model_files")
        deviceID = try kw.int("device_id", 0)
        _ = try kw.bool("use_gpu_embedding_cache")
        _ = try kw.float("cache_size_percentage")
        i64Keys = try kw.bool("i64_input_key")
        useMixedPrecision = try kw.bool("use_mixed_precision", false)
        _ = try kw.float("scaler", 1.0)
        for flag in ["use_algorithm_search", "use_cuda_graph", "use_context_stream", "use_hctr_cache_implementation", "init_ec"] {
            _ = try kw.bool(flag, true)
        }
        for flag in ["use_static_table", "fuse_embedding_table", "enable_pagelock", "fp8_quant"] { _ = try kw.bool(flag, false) }
        _ = try kw.int("number_of_worker_buffers_in_pool", 2)
        _ = try kw.int("number_of_refresh_buffers_in_pool", 1)
        _ = try kw.int("thread_pool_size", 16)
        _ = try kw.float("cache_refresh_percentage_per_iteration", 0)
        _ = try kw.ints("deployed_devices", [0])
        _ = try kw.floats("default_value_for_each_table", [0])
        _ = try kw.int("maxnum_des_feature_per_sample", 26)
        _ = try kw.float("refresh_delay", 0)
        _ = try kw.float("refresh_interval", 0)
        _ = try kw.ints("maxnum_catfeature_query_per_table_per_sample", [26])
        _ = try kw.ints("embedding_vecsize_per_table", [128])
        _ = try kw.strings("embedding_table_names", [""])
        _ = try kw.string("network_file", "")
        _ = try kw.int("label_dim", 1)
        _ = try kw.int("slot_num", 10)
        _ = try kw.string("non_trainable_params_file", "")
        for name in ["volatile_db", "persistent_db", "update_source", "embedding_cache_type"] { kw.accept(name, .null) }
        guard maxBatchsize >= 1 else { throw SwiftCTRError(.config, "InferenceParams: max_batchsize must be ≥ 1, found \(maxBatchsize).") }
    }
}

/// An `InferenceModel`: a graph JSON and trained model files, rebuilt for each kind of data
/// `predict` reads (the reader type and its options are fixed when a SwiftCTR model is made).
final class InferenceBox {
    let graphFile: String
    let settings: InferenceSettings
    private var built: (key: String, model: Model)?

    init(graphFile: String, settings: InferenceSettings) throws {
        self.graphFile = graphFile
        self.settings = settings
        _ = try model(reader: .norm, check: .sum, slotSizes: [], source: "-")
    }

    func model(reader: DataReaderType, check: CheckType, slotSizes: [Int], source: String) throws -> Model {
        let key = "\(reader)|\(check)|\(slotSizes)"
        if let built, built.key == key { return built.model }
        let b = settings.maxBatchsize
        var solver = Solver(modelName: settings.modelName, batchsizeEval: b, batchsize: b, vvgpu: [[settings.deviceID]],
                            useMixedPrecision: settings.useMixedPrecision, i64InputKey: settings.i64Keys)
        let backend = try DeviceChoice.backend(for: &solver)
        let params = DataReaderParams(dataReaderType: reader, source: [source], evalSource: source, checkType: check,
                                      numWorkers: 1, slotSizeArray: slotSizes)
        let model = try Model(solver, params, CreateOptimizer(), backend: backend)
        try model.constructFromJSON(graphConfigFile: graphFile, includeDenseNetwork: true)
        try model.compile()
        try model.loadDenseWeights(settings.denseModelFile)
        try model.loadSparseWeights(settings.sparseModelFiles)
        built = (key, model)
        return model
    }

    /// `num_batches × max_batchsize` predictions of the data `source` lists, from its start and
    /// wrapping around when it runs out, as HugeCTR's `InferenceModel.predict`.
    func predict(_ args: inout Arguments) throws -> (Predictions, Int) {
        let batches = try args.int("num_batches")
        let source = try args.string("source")
        let reader: DataReaderType = try args.value("data_reader_type", of: .dataReaderTypeT)
        let check: CheckType = try args.value("check_type", of: .checkT)
        let sizes = try args.ints("slot_size_array", [])
        _ = args.raw("data_source_params")
        _ = try args.bool("reading_file_sequentially", true)
        guard batches >= 1 else { throw SwiftCTRError(.config, "InferenceModel.predict: num_batches must be ≥ 1, found \(batches).") }
        guard reader == .norm || reader == .parquet else {
            throw SwiftCTRError(.config, "InferenceModel.predict reads Norm or Parquet data (HugeCTR's too), found DataReaderType_t.\(reader.rawValue).")
        }
        let model = try model(reader: reader, check: check, slotSizes: sizes, source: source)
        let wanted = batches * settings.maxBatchsize
        var all: Predictions?
        while (all?.samples ?? 0) < wanted {
            let done = all?.samples ?? 0
            var part = try model.predict(fileList: source, maxBatches: (wanted - done + settings.maxBatchsize - 1) / settings.maxBatchsize)
            let take = min(part.samples, wanted - done)
            for t in part.tasks.indices {
                part.tasks[t].probabilities = Array(part.tasks[t].probabilities.prefix(take * part.tasks[t].width))
                part.tasks[t].labels = Array(part.tasks[t].labels.prefix(take * part.tasks[t].labelWidth))
            }
            part.samples = take
            guard var sofar = all else { all = part; continue }
            for t in part.tasks.indices {
                sofar.tasks[t].probabilities += part.tasks[t].probabilities
                sofar.tasks[t].labels += part.tasks[t].labels
            }
            sofar.samples += take
            all = sofar
        }
        return (all!, wanted)
    }
}

enum InferenceBridge {
    static func call(_ method: String, _ args: inout Arguments, bridge: Bridge) throws -> JSONValue {
        switch method {
        case "InferenceModel.new":
            let file = try args.string("model_config_path")
            let settings = try Makers.object(args.raw("inference_params"), "InferenceParams", what: "InferenceModel(inference_params)",
                                             InferenceSettings.init)
            return bridge.register(try InferenceBox(graphFile: file, settings: settings))
        case "InferenceModel.predict":
            let box = try bridge.object(&args, InferenceBox.self, "InferenceModel")
            let (predictions, rows) = try box.predict(&args)
            // One row per sample: each task's columns side by side, tasks in label-name order.
            let width = predictions.tasks.reduce(0) { $0 + $1.width }
            var values = [Float](repeating: 0, count: rows * width)
            var column = 0
            for task in predictions.tasks {
                for r in 0..<rows {
                    for c in 0..<task.width { values[r * width + column + c] = task.probabilities[r * task.width + c] }
                }
                column += task.width
            }
            return bridge.buffer(values, shape: [rows, width])
        case "InferenceModel.evaluate":
            let box = try bridge.object(&args, InferenceBox.self, "InferenceModel")
            let (predictions, _) = try box.predict(&args)
            return .double(predictions.tasks.map(\.auc).reduce(0, +) / Double(max(1, predictions.tasks.count)))
        case "InferenceModel.free":
            try bridge.release(&args)
            return .null
        default:
            throw ArgumentError("hctr_call: InferenceModel has no method '\(method)'; it has predict and evaluate.")
        }
    }
}
