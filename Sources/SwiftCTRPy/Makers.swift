import SwiftCTR

/// The keyword arguments of each class HugeCTR's Python module constructs (spec §1.3–§1.17),
/// read into SwiftCTR's values. `make` returns the keywords with every default filled in; the
/// objects Python later passes back (`{"class", "kwargs"}`) are read again here.
enum Makers {
    /// Runs `body` over `kwargs` of `owner`, then refuses keywords it did not read.
    static func decode<T>(_ owner: String, _ kwargs: JSONValue?,
                          _ body: (inout Keywords) throws -> T) throws -> (value: T, resolved: JSONValue) {
        var kw = try Keywords(owner, kwargs)
        let value = try body(&kw)
        try kw.finish()
        return (value, .object(kw.resolved))
    }

    /// `make`: the object of class `cls` with its defaults.
    static func make(_ cls: String, _ kwargs: JSONValue?) throws -> JSONValue {
        let resolved: JSONValue
        switch cls {
        case "CreateSolver": resolved = try decode(cls, kwargs, solver).resolved
        case "DataReaderParams": resolved = try decode(cls, kwargs, reader).resolved
        case "CreateOptimizer": resolved = try decode(cls, kwargs, optimizer).resolved
        case "DataReaderSparseParam": resolved = try decode(cls, kwargs, sparseParam).resolved
        case "Input": resolved = try decode(cls, kwargs, input).resolved
        case "SparseEmbedding": resolved = try decode(cls, kwargs, embedding).resolved
        case "DenseLayer": resolved = try decode(cls, kwargs, denseLayer).resolved
        case "GroupDenseLayer": resolved = try decode(cls, kwargs, groupDenseLayer).resolved
        case "DataSourceParams": resolved = try decode(cls, kwargs, dataSource).resolved
        case "AsyncParam": resolved = try decode(cls, kwargs, asyncParam).resolved
        case "DenseLayerComputeConfig": resolved = try decode(cls, kwargs, computeConfig).resolved
        case "DataGeneratorParams": resolved = try decode(cls, kwargs, GeneratorParams.init).resolved
        case "InferenceParams": resolved = try decode(cls, kwargs, InferenceSettings.init).resolved
        default:
            throw ArgumentError("make: unknown class '\(cls)'; SwiftCTR makes \(classes.joined(separator: ", ")).")
        }
        return .object(["class": .string(cls), "kwargs": resolved])
    }

    static let classes = ["CreateSolver", "DataReaderParams", "CreateOptimizer", "DataReaderSparseParam", "Input",
                          "SparseEmbedding", "DenseLayer", "GroupDenseLayer", "DataSourceParams", "AsyncParam",
                          "DenseLayerComputeConfig", "DataGeneratorParams", "InferenceParams"]

    /// An object argument (`{"class", "kwargs"}`) of the expected class, read again.
    static func object<T>(_ value: JSONValue?, _ cls: String, what: String,
                          _ body: (inout Keywords) throws -> T) throws -> T {
        guard let value, let (c, kwargs) = Keywords.objectParts(value), c == cls else {
            throw ArgumentError("\(what): expected a hugectr.\(cls) object, found \(value.map(Keywords.describe) ?? "nothing").")
        }
        return try decode(cls, kwargs, body).value
    }

    static func solver(_ kw: inout Keywords) throws -> Solver {
        let modelName = try kw.string("model_name", "")
        let seed = try kw.int("seed", 0)
        guard seed >= 0 else { throw ArgumentError("CreateSolver: seed is a uint64, found \(seed); give a seed ≥ 0 (0 draws one).") }
        _ = try kw.member("lr_policy", of: .lrPolicyT, "fixed")
        var solver = Solver(modelName: modelName, seed: UInt64(seed), lr: try kw.float("lr", 0.001),
                            warmupSteps: try kw.int("warmup_steps", 1), decayStart: try kw.int("decay_start", 0),
                            decaySteps: try kw.int("decay_steps", 1), decayPower: try kw.float("decay_power", 2.0),
                            endLR: try kw.float("end_lr", 0), maxEvalBatches: try kw.int("max_eval_batches", 100),
                            batchsizeEval: try kw.int("batchsize_eval", 2048), batchsize: try kw.int("batchsize", 2048),
                            vvgpu: try kw.intLists("vvgpu", [[0]]), repeatDataset: try kw.bool("repeat_dataset", true),
                            useMixedPrecision: try kw.bool("use_mixed_precision", false),
                            enableTF32Compute: try kw.bool("enable_tf32_compute", false), scaler: try kw.float("scaler", 1.0))
        var spec: [MetricsType: Float] = [:]
        for (key, value) in try kw.map("metrics_spec", [(PyEnum.tag(.metricsType, "AUC"), .double(1.0))]) {
            guard let name = PyEnum.metricsType.member(key), let type = MetricsType(rawValue: name) else {
                throw ArgumentError("CreateSolver: metrics_spec keys must be hugectr.MetricsType members, found \(Keywords.describe(key)).")
            }
            guard let threshold = value.floatValue else {
                throw ArgumentError("CreateSolver: metrics_spec[MetricsType.\(name)] must be a float, found \(Keywords.describe(value)).")
            }
            spec[type] = threshold
        }
        solver.metricsSpec = spec
        solver.i64InputKey = try kw.bool("i64_input_key", false)
        solver.useAlgorithmSearch = try kw.bool("use_algorithm_search", true)
        solver.useCudaGraph = try kw.bool("use_cuda_graph", true)
        solver.genLossSummary = try kw.bool("gen_loss_summary", true)
        solver.dropIncompleteBatch = try kw.bool("drop_incomplete_batch", true)
        // Scheduling and multi-node knobs with no numerical effect (spec §1.3).
        for flag in ["train_intra_iteration_overlap", "train_inter_iteration_overlap", "eval_intra_iteration_overlap",
                     "eval_inter_iteration_overlap", "use_embedding_collection", "grouped_all_reduce", "perf_logging"] {
            _ = try kw.bool(flag, false)
        }
        _ = try kw.member("device_layout", of: .deviceLayout, "LocalFirst")
        _ = try kw.member("all_reduce_algo", of: .allReduceAlgo, "NCCL")
        _ = try kw.int("num_iterations_statistics", 20)
        _ = try kw.string("kafka_brockers", "")
        kw.accept("training_callbacks", .array([]))  // Python keeps the callbacks; fit reports events to it
        try solver.validate()
        return solver
    }

    static func reader(_ kw: inout Keywords) throws -> DataReaderParams {
        var params = DataReaderParams(dataReaderType: try kw.value("data_reader_type", of: .dataReaderTypeT),
                                      source: try kw.stringOrList("source"), evalSource: try kw.string("eval_source"),
                                      checkType: try kw.value("check_type", of: .checkT))
        _ = try kw.stringOrList("keyset", [])
        params.cacheEvalData = try kw.int("cache_eval_data", 0)
        params.numSamples = try kw.int("num_samples", 0)
        params.evalNumSamples = try kw.int("eval_num_samples", 0)
        params.floatLabelDense = try kw.bool("float_label_dense", false)
        _ = try kw.bool("read_file_sequentially", false)
        params.numWorkers = try kw.int("num_workers", 12)
        params.slotSizeArray = try kw.ints("slot_size_array", [])
        if let (_, source) = try kw.object("data_source_params", classes: ["DataSourceParams"]) {
            _ = try decode("DataSourceParams", source, dataSource)
        }
        _ = try kw.object("async_param", classes: ["AsyncParam"])
        return params
    }

    static func optimizer(_ kw: inout Keywords) throws -> OptimizerParams {
        OptimizerParams(optimizerType: try kw.value("optimizer_type", of: .optimizerT, "Adam"),
                        updateType: try kw.value("update_type", of: .updateT, "Global"),
                        beta: try kw.float("beta", 0), lambda1: try kw.float("lambda1", 0), lambda2: try kw.float("lambda2", 0),
                        beta1: try kw.float("beta1", 0.9), beta2: try kw.float("beta2", 0.999),
                        epsilon: try kw.float("epsilon", 1e-7), initialAccuValue: try kw.float("initial_accu_value", 0),
                        momentumFactor: try kw.float("momentum_factor", 0), atomicUpdate: try kw.bool("atomic_update", true))
    }

    static func sparseParam(_ kw: inout Keywords) throws -> DataReaderSparseParam {
        let name = try kw.string("top_name")
        let nnz = try kw.intOrList("nnz_per_slot")
        let fixed = try kw.bool("is_fixed_length")
        let slots = try kw.int("slot_num")
        guard slots > 0 else { throw SwiftCTRError(.config, "DataReaderSparseParam '\(name)': slot_num must be ≥ 1, found \(slots).") }
        switch nnz {
        case .one(let n): return DataReaderSparseParam(name, n, fixed, slots)
        case .many(let list):
            guard list.count == slots else {
                throw SwiftCTRError(.config, "DataReaderSparseParam '\(name)': nnz_per_slot lists \(list.count) values but slot_num is \(slots); give one nnz per slot, or one int for all.")
            }
            return DataReaderSparseParam(name, nnzPerSlot: list, isFixedLength: fixed, slotNum: slots)
        }
    }

    static func input(_ kw: inout Keywords) throws -> Input {
        let sparse = try kw.objects("data_reader_sparse_param_array", of: "DataReaderSparseParam").map {
            try decode("DataReaderSparseParam", $0, sparseParam).value
        }
        let denseDim = try kw.int("dense_dim"), denseName = try kw.string("dense_name")
        if kw.has("label_dims") || kw.has("label_names") {
            return Input(labelDims: try kw.ints("label_dims"), labelNames: try kw.strings("label_names"),
                         labelWeights: try kw.floats("label_weights", []), denseDim: denseDim, denseName: denseName,
                         dataReaderSparseParamArray: sparse)
        }
        return Input(labelDim: try kw.int("label_dim"), labelName: try kw.string("label_name"), denseDim: denseDim,
                     denseName: denseName, dataReaderSparseParamArray: sparse)
    }

    static func embedding(_ kw: inout Keywords) throws -> SparseEmbedding {
        let type: EmbeddingType = try kw.value("embedding_type", of: .embeddingT)
        var optimizer: OptimizerParams?
        if let (cls, args) = try kw.object("optimizer", classes: ["CreateOptimizer", "OptParamsPy"]), cls == "CreateOptimizer" {
            optimizer = try decode(cls, args, Self.optimizer).value
        }
        let embedding = SparseEmbedding(embeddingType: type, workspaceSizePerGPUInMB: try kw.int("workspace_size_per_gpu_in_mb", 0),
                                        embeddingVecSize: try kw.int("embedding_vec_size"), combiner: try kw.string("combiner"),
                                        sparseEmbeddingName: try kw.string("sparse_embedding_name"),
                                        bottomName: try kw.string("bottom_name"), slotSizeArray: try kw.ints("slot_size_array", []),
                                        optimizer: optimizer)
        kw.accept("hybrid_embedding_param", .null)
        return embedding
    }

    static func denseLayer(_ kw: inout Keywords) throws -> DenseLayer {
        let type: LayerType = try kw.value("layer_type", of: .layerT)
        var layer = DenseLayer(type, bottomNames: try kw.stringOrList("bottom_names"), topNames: try kw.stringOrList("top_names"))
        layer.factor = try kw.float("factor", 1.0)
        layer.eps = try kw.float("eps", 1e-5)
        layer.gammaInitType = try kw.value("gamma_init_type", of: .initializerT, "Default")
        layer.betaInitType = try kw.value("beta_init_type", of: .initializerT, "Default")
        layer.dropoutRate = try kw.float("dropout_rate", 0.5)
        layer.eluAlpha = try kw.float("elu_alpha", 1.0)
        layer.numOutput = try kw.int("num_output", 1)
        layer.weightInitType = try kw.value("weight_init_type", of: .initializerT, "Default")
        layer.biasInitType = try kw.value("bias_init_type", of: .initializerT, "Default")
        layer.numLayers = try kw.int("num_layers", 0)
        layer.leadingDim = try kw.int("leading_dim", 0)
        layer.timeStep = try kw.int("time_step", 0)
        layer.batchsize = try kw.int("batchsize", 1)
        layer.seqLength = try kw.int("SeqLength", 1)
        layer.vectorSize = try kw.int("vector_size", 1)
        layer.selected = try kw.bool("selected", false)
        layer.selectedSlots = try kw.ints("selected_slots", [])
        layer.ranges = try kw.pairs("ranges", [])
        layer.indices = try kw.ints("indices", [])
        layer.weightDims = try kw.ints("weight_dims", [])
        layer.projectionDim = try kw.int("projection_dim", 0)
        layer.outDim = try kw.int("out_dim", 0)
        layer.axis = try kw.int("axis", 1)
        layer.maxSequenceLenFrom = try kw.int("max_sequence_len_from", 1)
        layer.maxSequenceLenTo = try kw.int("max_sequence_len_to", 1)
        layer.numAttentionHeads = try kw.int("num_attention_heads", 1)
        layer.transposeB = try kw.bool("transpose_b", false)
        layer.targetWeightVec = try kw.floats("target_weight_vec", [])
        layer.useRegularizer = try kw.bool("use_regularizer", false)
        layer.regularizerType = try kw.value("regularizer_type", of: .regularizerT, "L1")
        layer.lambda = try kw.float("lambda", 0)
        layer.posType = try kw.value("pos_type", of: .fcPositionT, "Non")
        layer.actType = try kw.value("act_type", of: .activationT, "Relu")
        layer.numOutputs = try kw.ints("num_outputs", [])
        layer.useBias = try kw.bool("use_bias", true)
        layer.activations = try kw.members("activations", of: .activationT).map(activation)
        layer.biases = try kw.bools("biases", [])
        _ = try kw.object("compute_config", classes: ["DenseLayerComputeConfig"])
        layer.shape = try kw.ints("shape", [])
        layer.dim = try kw.int("dim", 0)
        layer.index = try kw.ints("index", [])
        return layer
    }

    static func activation(_ member: String) throws -> Activation {
        guard let value = Activation(rawValue: PyEnum.spelling(member)) else {
            throw ArgumentError("DenseLayer: Activation_t.\(member) is not supported.")
        }
        return value
    }

    /// HugeCTR's GroupDenseLayer (v23.08): a stack of FusedInnerProduct layers, Head, Body…, Tail.
    static func groupDenseLayer(_ kw: inout Keywords) throws -> [DenseLayer] {
        _ = try kw.member("group_layer_type", of: .groupLayerT)
        let bottoms = try kw.stringOrList("bottom_name_list"), tops = try kw.stringOrList("top_name_list")
        let outputs = try kw.ints("num_outputs")
        let last = try activation(try kw.member("last_act_type", of: .activationT, "Relu"))
        guard outputs.count >= 2, tops.count == outputs.count else {
            throw SwiftCTRError(.config, "GroupDenseLayer: needs at least 2 layers with one top name per entry of num_outputs; found \(outputs.count) num_outputs and \(tops.count) top names.")
        }
        // Every layer but the last hands on its output with HugeCTR's mask, dRelu and db tops.
        func handed(_ i: Int) -> [String] { [tops[i], tops[i] + "_mask", tops[i] + "_dRelu", tops[i] + "_db"] }
        return outputs.indices.map { i in
            let isLast = i == outputs.count - 1
            let position: FcPosition = i == 0 ? .head : isLast ? .tail : .body
            return DenseLayer(.fusedInnerProduct, bottomNames: i == 0 ? bottoms : handed(i - 1),
                              topNames: isLast ? [tops[i]] : handed(i), numOutput: outputs[i], posType: position,
                              actType: isLast ? last : .relu)
        }
    }

    static func dataSource(_ kw: inout Keywords) throws -> String {
        let system = try kw.member("source", of: .fileSystemTypeT)
        _ = try kw.string("server")
        _ = try kw.int("port")
        guard system == "Local" else {
            throw SwiftCTRError(.config, "DataSourceParams: FileSystemType_t.\(system) is not available; SwiftCTR reads local files only (FileSystemType_t.Local).")
        }
        return system
    }

    static func asyncParam(_ kw: inout Keywords) throws -> Int {
        _ = try kw.int("num_threads")
        _ = try kw.int("num_batches_per_thread")
        for name in ["max_num_requests_per_thread", "io_depth", "io_alignment"] { _ = try kw.int(name, 0) }
        _ = try kw.bool("shuffle")
        _ = try kw.member("aligned_type", of: .alignmentT, "Non")
        _ = try kw.bool("multi_hot_reader", true)
        _ = try kw.bool("is_dense_float", true)
        return 0
    }

    static func computeConfig(_ kw: inout Keywords) throws -> Int {
        _ = try kw.bool("async_wgrad", false)
        _ = try kw.bool("fuse_wb", false)
        return 0
    }
}
