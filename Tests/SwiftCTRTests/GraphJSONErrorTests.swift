import Foundation
import SwiftCTR
import Testing

// Broken HugeCTR JSON files each give their own clear error; unknown keys are warnings; legacy full
// configurations map onto Solver, OptimizerParams, DataReaderParams and FitSettings, and train.

/// A small valid graph: Data, one embedding, Reshape, Concat, InnerProduct, BCE.
private func baseGraph() -> [String: JSONValue] {
    ["layers": [
        ["type": "Data", "label": ["top": "label", "label_dim": 1], "dense": ["top": "dense", "dense_dim": 4],
         "sparse": [["top": "data1", "type": "DistributedSlot", "nnz_per_slot": [1, 1], "is_fixed_length": true, "slot_num": 2]]],
        ["type": "DistributedSlotSparseEmbeddingHash", "bottom": "data1", "top": "emb",
         "sparse_embedding_hparam": ["workspace_size_per_gpu_in_mb": 1, "embedding_vec_size": 4, "combiner": "sum"]],
        ["type": "Reshape", "bottom": "emb", "top": "flat", "leading_dim": 8],
        ["type": "Concat", "bottom": ["flat", "dense"], "top": "all"],
        ["type": "InnerProduct", "bottom": "all", "top": "fc1", "fc_param": ["num_output": 1]],
        ["type": "BinaryCrossEntropyLoss", "bottom": ["fc1", "label"], "top": "loss"],
    ]]
}

/// `baseGraph()` with `change` applied to its layer `index` (setting a key to nil removes it).
private func graph(layer index: Int, _ change: (inout [String: JSONValue]) -> Void) -> [String: JSONValue] {
    graph(baseGraph(), layer: index, change)
}

/// The base graph as a legacy configuration: solver and optimizer blocks, data source keys.
private func legacy(_ solver: [String: JSONValue] = ["batchsize": 16, "max_iter": 3],
                    dataKeys: [String: JSONValue] = ["source": "train_list.txt", "eval_source": "eval_list.txt"]) -> [String: JSONValue] {
    var root = graph(layer: 0) { entry in entry.merge(dataKeys) { _, new in new } }
    root["solver"] = .object(solver)
    root["optimizer"] = ["type": "Adam", "adam_hparam": ["learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7]]
    return root
}

/// The object `value` with `change` applied.
private func nested(_ value: JSONValue?, _ change: (inout [String: JSONValue]) -> Void) -> JSONValue {
    guard case .object(var members)? = value else { return value ?? .null }
    change(&members)
    return .object(members)
}

/// One broken file: its text and what its error must say.
struct BrokenJSON: Sendable, CustomTestStringConvertible {
    let name: String
    let text: String
    let expected: [String]
    var testDescription: String { name }

    init(_ name: String, text: String, _ expected: [String]) {
        (self.name, self.text, self.expected) = (name, text, expected)
    }

    init(_ name: String, _ root: [String: JSONValue], _ expected: [String]) {
        self.init(name, text: JSONValue.object(root).serialized(), expected)
    }
}

private let hparam = "sparse_embedding_hparam"

let brokenJSONFiles: [BrokenJSON] = [
    BrokenJSON("truncated text", text: #"{"layers": ["#, ["is not valid JSON", "Unexpected end of file"]),
    BrokenJSON("a syntax error", text: "{\"layers\":\n [1,, 2]}", ["is not valid JSON", "(line 2, column"]),
    BrokenJSON("an array at the top", text: "[1, 2]", ["expected an object with a \"layers\" array", "found an array of 2 elements"]),
    BrokenJSON("no layers", ["model_name": "m"], ["key 'layers' is required", "found nothing"]),
    BrokenJSON("empty layers", ["layers": []], ["key 'layers'", "found an empty array"]),
    BrokenJSON("first layer not Data", graph(layer: 0) { $0["type"] = "ReLU" },
               ["data layer 0", "the first layer must be the Data layer", "found \"ReLU\""]),
    BrokenJSON("label dims do not match the names", graph(layer: 0) { $0["label"] = ["top": ["a", "b"], "label_dim": [1]] },
               ["data layer 0", "key 'label.label_dim'", "expected 2 label dims", "found 1"]),
    BrokenJSON("nnz_per_slot of the wrong length", graph(layer: 0) { entry in
        entry["sparse"] = [["top": "data1", "nnz_per_slot": [1, 1, 1], "is_fixed_length": true, "slot_num": 2]]
    }, ["data layer 0", "key 'sparse[0].nnz_per_slot'", "expected 2 entries (slot_num) or one number, found 3"]),
    BrokenJSON("a sparse input that is not an object", graph(layer: 0) { $0["sparse"] = [3] },
               ["data layer 0", "key 'sparse'", "expected an array of sparse inputs", "found an array of 1 element"]),
    BrokenJSON("an embedding reading the dense input", graph(layer: 1) { $0["bottom"] = "dense" },
               ["embedding layer 1 'emb'", "key 'bottom'", "expected one of the Data layer's sparse inputs [\"data1\"]", "found 'dense'"]),
    BrokenJSON("an embedding without embedding_vec_size", graph(layer: 1) { entry in
        entry[hparam] = nested(entry[hparam]) { $0["embedding_vec_size"] = nil }
    }, ["embedding layer 1 'emb' (DistributedSlotSparseEmbeddingHash)", "'sparse_embedding_hparam.embedding_vec_size' is required",
        "expected an integer"]),
    BrokenJSON("an unknown combiner", graph(layer: 1) { entry in
        entry[hparam] = nested(entry[hparam]) { $0["combiner"] = "max" }
    }, ["embedding layer 1 'emb'", "key 'sparse_embedding_hparam.combiner'", "expected \"sum\" or \"mean\"", "found the string \"max\""]),
    BrokenJSON("an embedding without a size", graph(layer: 1) { entry in
        entry[hparam] = nested(entry[hparam]) { $0["workspace_size_per_gpu_in_mb"] = nil }
    }, ["embedding layer 1 'emb'", "'sparse_embedding_hparam.workspace_size_per_gpu_in_mb' is required when there is no slot_size_array"]),
    BrokenJSON("HybridSparseEmbedding", graph(layer: 1) { $0["type"] = "HybridSparseEmbedding" },
               ["embedding layer 1 'emb' (HybridSparseEmbedding)", "HybridSparseEmbedding is not available in this version"]),
    BrokenJSON("an optimizer block with a bad update_type", graph(layer: 1) { entry in
        entry["optimizer"] = ["type": "Adam", "update_type": "Sometimes", "adam_hparam": ["beta1": 0.9, "beta2": 0.999, "epsilon": 1e-7]]
    }, ["embedding layer 1 'emb'", "key 'optimizer.update_type'", "expected \"Global\", \"Local\" or \"LazyGlobal\"",
        "found the string \"Sometimes\""]),
    BrokenJSON("an embedding after dense layers", graph(layer: 3) { entry in
        entry = ["type": "LocalizedSlotSparseEmbeddingHash", "bottom": "data1", "top": "all",
                 hparam: ["workspace_size_per_gpu_in_mb": 1, "embedding_vec_size": 4, "combiner": "sum"]]
    }, ["dense layer 3 'all'", "is an embedding, but embeddings must come right after the Data layer"]),
    BrokenJSON("an unknown layer type", graph(layer: 4) { $0["type"] = "Dense" },
               ["dense layer 4 'fc1'", "key 'type'", "expected one of", "found \"Dense\""]),
    BrokenJSON("a string where an integer belongs", graph(layer: 4) { $0["fc_param"] = ["num_output": "64"] },
               ["dense layer 4 'fc1' (InnerProduct)", "key 'fc_param.num_output'", "expected an integer", "found the string \"64\""]),
    BrokenJSON("a missing parameter object", graph(layer: 4) { $0["fc_param"] = nil },
               ["dense layer 4 'fc1' (InnerProduct)", "key 'fc_param' is required", "expected an object", "found nothing"]),
    BrokenJSON("a bottom no layer defines", graph(layer: 4) { $0["bottom"] = "concat9" },
               ["dense layer 4 'fc1' (InnerProduct)", "key 'bottom'", "found 'concat9'", "Defined so far: label, dense, emb, flat, all"]),
    BrokenJSON("a dense layer reading a sparse input", graph(layer: 2) { $0["bottom"] = "data1" },
               ["dense layer 2 'flat' (Reshape)", "found 'data1', a sparse input, which only an embedding reads"]),
    BrokenJSON("a top defined twice", graph(layer: 3) { $0["top"] = "flat" },
               ["dense layer 3 'flat' (Concat)", "key 'top'", "found 'flat', which is already defined"]),
    BrokenJSON("legacy: no batchsize", legacy(["max_iter": 3]), ["key 'solver.batchsize' is required", "expected an integer"]),
    BrokenJSON("legacy: max_iter and num_epochs", legacy(["batchsize": 16, "max_iter": 3, "num_epochs": 2]),
               ["solver block: max_iter and num_epochs are both given"]),
    BrokenJSON("legacy: a bad mixed_precision scaler", legacy(["batchsize": 16, "mixed_precision": 100]),
               ["solver block: key 'mixed_precision': expected the loss scaler 128, 256, 512 or 1024, found 100"]),
    BrokenJSON("legacy: eval_batches", legacy(["batchsize": 16, "eval_batches": 3]), ["'eval_batches' is not a HugeCTR solver key"]),
    BrokenJSON("legacy: no source", legacy(dataKeys: ["eval_source": "eval_list.txt"]), ["data layer 0: key 'source' is required"]),
    BrokenJSON("legacy: an optimizer without its hparam block", {
        var root = legacy()
        root["optimizer"] = ["type": "SGD"]
        return root
    }(), ["key 'optimizer.sgd_hparam' is required", "expected an object"]),
]

/// Writes `text` to a fresh file and reads it as `ModelConfig` reads a command-line model.
private func load(_ text: String) throws -> ModelConfig {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-json-\(UUID().uuidString).json").path
    defer { try? FileManager.default.removeItem(atPath: file) }
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    return try ModelConfig(file: file)
}

/// The `.config` message `text` gives ("" when it loads).
private func loadError(_ text: String) -> String {
    do {
        _ = try load(text)
        return ""
    } catch let error as SwiftCTRError {
        return error.kind == .config ? error.message : "\(error)"
    } catch {
        return "\(error)"
    }
}

@Suite("HugeCTR JSON errors, warnings and legacy configurations")
struct GraphJSONErrorTests {
    @Test("the base graph of the broken files loads without warnings")
    func baseLoads() throws {
        #expect(try load(JSONValue.object(baseGraph()).serialized()).warnings.isEmpty)
        let config = try load(JSONValue.object(legacy()).serialized())
        #expect(config.warnings.isEmpty)
        guard case .legacy = config else { Issue.record("a file with a solver block is a legacy configuration"); return }
    }

    @Test("each broken file gives its own clear error", arguments: brokenJSONFiles)
    func broken(file: BrokenJSON) {
        let message = loadError(file.text)
        for part in file.expected {
            #expect(message.contains(part), "\(part) not in: \(message)")
        }
    }

    @Test("no two broken files give the same error")
    func distinctErrors() {
        let messages = brokenJSONFiles.map { loadError($0.text) }
        #expect(Set(messages).count == brokenJSONFiles.count)
        #expect(brokenJSONFiles.count >= 10)
    }

    @Test("a missing file is a file error naming the path")
    func missingFile() {
        let error = #expect(throws: SwiftCTRError.self) { try ModelConfig(file: "no/such/model.json") }
        #expect(error?.kind == .io && error?.message.contains("'no/such/model.json'") == true)
    }

    @Test("unknown keys are warnings naming the layer and the key; legacy 'name' keys are silent")
    func unknownKeysWarn() throws {
        var root = graph(layer: 4) { entry in
            entry["name"] = "fc1"
            entry["max_feature_num_per_sample"] = 30
            entry["fc_param"] = ["num_output": 1, "foo": true]
        }
        root["comment"] = "made by hand"
        root = graph(root, layer: 0) { entry in
            entry["foo"] = 1
            entry["dense"] = ["top": "dense", "dense_dim": 4, "bar": 2]
        }
        root = graph(root, layer: 1) { entry in
            entry["name"] = "emb"
            entry["extra"] = 1
            entry[hparam] = nested(entry[hparam]) { $0["qux"] = 1 }
        }
        let warnings = try load(JSONValue.object(root).serialized()).warnings
        #expect(warnings == [
            "graph JSON: top-level key 'comment' is not known to SwiftCTR and is ignored.",
            "data layer 0: key 'dense.bar' is not known to SwiftCTR and is ignored.",
            "data layer 0: key 'foo' is not known to SwiftCTR and is ignored.",
            "embedding layer 1 'emb' (DistributedSlotSparseEmbeddingHash): key 'extra' is not known to SwiftCTR and is ignored.",
            "embedding layer 1 'emb' (DistributedSlotSparseEmbeddingHash): key 'sparse_embedding_hparam.qux' is not known to SwiftCTR and is ignored.",
            "dense layer 4 'fc1' (InnerProduct): key 'fc_param.foo' is not known to SwiftCTR and is ignored.",
            "dense layer 4 'fc1' (InnerProduct): key 'max_feature_num_per_sample' is not known to SwiftCTR and is ignored.",
        ])
        var legacyRoot = legacy(["batchsize": 16, "max_iter": 3, "colour": "blue"])
        legacyRoot["optimizer"] = nested(legacyRoot["optimizer"]) { $0["momentum"] = 0.9 }
        #expect(try load(JSONValue.object(legacyRoot).serialized()).warnings == [
            "legacy configuration: key 'solver.colour' is not known to SwiftCTR and is ignored.",
            "legacy configuration: key 'optimizer.momentum' is not known to SwiftCTR and is ignored.",
        ])
    }

    @Test("a legacy configuration's solver, optimizer, reader and layer keys map onto SwiftCTR's types")
    func legacyMapping() throws {
        var root = legacy(["batchsize": 60, "batchsize_eval": 30, "max_eval_samples": 100, "num_epochs": 2, "display": 5,
                           "eval_interval": 9, "snapshot": 7, "snapshot_prefix": "p", "gpu": [[0, 1], [2, 3]], "seed": 11,
                           "mixed_precision": 1024, "input_key_type": "I64", "eval_metrics": ["AUC:0.8025", "AverageLoss"],
                           "cuda_graph": false, "dense_model_file": "d.model", "sparse_model_file": ["s0", "s1"]],
                          dataKeys: ["source": ["a.txt", "b.txt"], "eval_source": "e.txt", "check": "None", "num_workers": 3,
                                     "slot_size_array": [5, 6]])
        root["optimizer"] = ["type": "SGD", "global_update": true,
                             "sgd_hparam": ["learning_rate": 0.5, "warmup_steps": 300, "decay_start": 48000, "decay_steps": 24000,
                                            "decay_power": 2.0, "end_lr": 0.01]]
        root = graph(root, layer: 0) { entry in
            entry["sparse"] = [["top": "data1", "type": "LocalizedSlot", "max_nnz": 3, "slot_num": 2]]
        }
        root = graph(root, layer: 1) { entry in
            entry[hparam] = ["max_vocabulary_size_per_gpu": 20000, "embedding_vec_size": 16, "combiner": 1]
        }
        guard case .legacy(let config) = try load(JSONValue.object(root).serialized()) else {
            Issue.record("expected a legacy configuration")
            return
        }
        #expect(config.warnings.isEmpty)
        let solver = config.solver
        #expect(solver.batchsize == 60 && solver.batchsizeEval == 30 && solver.maxEvalBatches == 3)
        #expect(!solver.repeatDataset && solver.vvgpu == [[0, 1], [2, 3]] && solver.seed == 11)
        #expect(solver.useMixedPrecision && solver.mixedPrecisionType == .float16 && solver.scaler == 1024)
        #expect(solver.i64InputKey && !solver.useCudaGraph && solver.metricsSpec == [.auc: 0.8025, .averageLoss: 0])
        #expect(solver.lr == 0.5 && solver.warmupSteps == 300 && solver.decayStart == 48000 && solver.decaySteps == 24000)
        #expect(solver.decayPower == 2 && solver.endLR == 0.01)
        #expect(config.optimizer == CreateOptimizer(optimizerType: .sgd, updateType: .global, atomicUpdate: true))
        #expect(config.fit == FitSettings(numEpochs: 2, maxIter: 0, display: 5, evalInterval: 9, snapshot: 7, snapshotPrefix: "p"))
        #expect(config.reader == DataReaderParams(dataReaderType: .norm, source: ["a.txt", "b.txt"], evalSource: "e.txt",
                                                  checkType: .none, numWorkers: 3, slotSizeArray: [5, 6]))
        #expect(config.modelFiles == ["dense_model_file": ["d.model"], "sparse_model_file": ["s0", "s1"]])
        #expect(config.graph.input.dataReaderSparseParamArray == [DataReaderSparseParam("data1", 3, false, 2)])
        // 20000 rows · (1 + 0 SGD states) · 4 bytes · 16 = 1.22 MiB → 2 MiB; combiner 1 is "mean".
        let embedding = config.graph.embeddings[0]
        #expect(embedding.workspaceSizePerGPUInMB == 2 && embedding.combiner == "mean" && embedding.optimizer == nil)
    }

    @Test("Examples/json/dcn_legacy.json maps as written")
    func dcnLegacyExample() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/Examples/json/dcn_legacy.json"
        let config = try LegacyConfig(file: file)
        #expect(config.warnings.isEmpty)
        #expect(config.solver.batchsize == 2048 && config.solver.batchsizeEval == 10000 && config.solver.maxEvalBatches == 20)
        #expect(config.solver.i64InputKey && config.solver.seed == 42 && config.solver.lr == 0.001 && config.solver.repeatDataset)
        #expect(config.fit == FitSettings(maxIter: 2000, display: 100, evalInterval: 500, snapshot: 10_000_000, snapshotPrefix: "./dcn"))
        #expect(config.reader.source == ["data/dcn-default/train_list.txt"] && config.reader.checkType == .sum)
        // max_feature_num_per_sample 30 over 26 slots: four slots of 2 keys, the rest 1.
        #expect(config.graph.input.dataReaderSparseParamArray[0].nnzPerSlot == [2, 2, 2, 2] + Array(repeating: 1, count: 22))
        #expect(config.graph.embeddings[0].combiner == "sum")
        #expect(config.graph.layers.count == 13)
    }

    @Test("a legacy configuration brings its own reader (Norm, or Parquet with its slot_size_array) and solver and trains; relative sources resolve against its folder",
          arguments: [false, true])
    func legacyTrains(parquet: Bool) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftctr-json-legacy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let data = SyntheticConfig(numTrain: 200, numEval: 64, slotSizes: [10, 12], denseDim: 4, seed: 9, i64Keys: false, check: .sum,
                                   format: parquet ? .parquet : .norm, rowGroupSize: 50)
        _ = try SyntheticGenerator.generate(data, into: folder)
        let dataKeys: [String: JSONValue] = parquet
            ? ["source": "train/_file_list.txt", "eval_source": "eval/_file_list.txt", "format": "Parquet", "slot_size_array": [10, 12], "num_workers": 1]
            : ["source": "train_list.txt", "eval_source": "eval_list.txt", "check": "Sum", "num_workers": 1]
        let root = legacy(["batchsize": 32, "batchsize_eval": 32, "max_eval_batches": 2, "max_iter": 3, "display": 1,
                           "eval_interval": 3, "seed": 4], dataKeys: dataKeys)
        let file = folder + "/model.json"
        try JSONValue.object(root).serialized().write(toFile: file, atomically: true, encoding: .utf8)
        let config = try LegacyConfig(file: file)
        #expect(config.reader.source == [folder + (parquet ? "/train/_file_list.txt" : "/train_list.txt")])
        #expect(config.reader.dataReaderType == (parquet ? .parquet : .norm) && config.reader.slotSizeArray == (parquet ? [10, 12] : []))
        let model = try config.makeModel()
        model.printsProgress = false
        try model.compile()
        let records = try model.fit(config.fit)
        #expect(records.filter { $0.evalAUC == nil }.map(\.iter) == [1, 2, 3])
        #expect(records.allSatisfy { $0.loss.isFinite } && records.last?.evalAUC != nil)
        #expect(model.solver.lr == 0.01)
    }
}

/// `root` with `change` applied to its layer `index`.
private func graph(_ root: [String: JSONValue], layer index: Int, _ change: (inout [String: JSONValue]) -> Void) -> [String: JSONValue] {
    var root = root
    guard case .array(var layers) = root["layers"]!, case .object(var entry) = layers[index] else { return root }
    change(&entry)
    layers[index] = .object(entry)
    root["layers"] = .array(layers)
    return root
}
