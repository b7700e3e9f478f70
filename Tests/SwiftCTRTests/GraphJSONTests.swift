import Foundation
import SwiftCTR
import Testing

// Whole-model HugeCTR JSON (spec §2): graphToJSON → constructFromJSON round trips for every layer
// type, the complete example of §2.7 byte for byte and in training, the Examples/json models, and
// legacy full configurations.

/// The package root (Tests/SwiftCTRTests/ is two folders below it).
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
private let examplesFolder = packageRoot + "/Examples/json"

/// A fresh folder under the temporary directory; the caller removes it.
private func jsonScratch(_ name: String = #function) -> String {
    let folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("swiftctr-json-\(name.filter(\.isLetter))-\(UUID().uuidString)").path
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}

/// Data-source parameters for models that are compiled or written but never read data.
private let unread = DataReaderParams(dataReaderType: .norm, source: "unused_train.txt", evalSource: "unused_eval.txt",
                                      checkType: .sum)

private let dataInput = Input(labelDim: 1, labelName: "label", denseDim: 8, denseName: "dense",
                              dataReaderSparseParamArray: [DataReaderSparseParam("data1", nnzPerSlot: [1, 2, 1], isFixedLength: false, slotNum: 3)])

private let localizedEmbedding = SparseEmbedding(
    embeddingType: .localizedSlotSparseEmbeddingHash, workspaceSizePerGPUInMB: 2, embeddingVecSize: 4, combiner: "mean",
    sparseEmbeddingName: "emb", bottomName: "data1", slotSizeArray: [5, 6, 7],
    optimizer: CreateOptimizer(optimizerType: .sgd, updateType: .local, atomicUpdate: false))

/// The file names Examples/json must hold.
private let expectedExamples = [
    "bst.json", "criteo.json", "criteo_multi_slots.json", "dcn.json", "dcn_legacy.json", "dcn_v2.json", "deepfm.json",
    "din.json", "dlrm.json", "gmf.json", "mmoe.json", "ncf.json", "neumf.json", "shared_bottom.json", "wdl.json",
    "wdl_tiny.json",
]

@Suite("HugeCTR JSON of whole models")
struct GraphJSONTests {
    @Test("every registered layer type survives graphToJSON → constructFromJSON → graphToJSON", arguments: LayerRegistry.available)
    func roundTrip(type: LayerType) throws {
        // The layer reads copies of the dense input made by one Slice, so no tensor has two readers.
        var layer = jsonSampleLayer(type)
        let copies = layer.bottomNames.indices.filter { layer.bottomNames[$0] != "label" }.map { "copy\($0)" }
        for (k, copy) in zip(layer.bottomNames.indices.filter { layer.bottomNames[$0] != "label" }, copies) {
            layer.bottomNames[k] = copy
        }
        let split = DenseLayer(.slice, bottomNames: ["dense"], topNames: copies, ranges: copies.map { _ in [0, 8] })
        let solver = Solver(modelName: "round_trip", vvgpu: [[0, 1]])
        let model = try Model(solver, unread, CreateOptimizer())
        model.add(dataInput)
        model.add(localizedEmbedding)
        model.add(split)
        model.add(layer)

        let folder = jsonScratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/graph.json"
        try model.graphToJSON(graphConfigFile: file)
        let back = try Model(solver, unread, CreateOptimizer())
        #expect(try back.constructFromJSON(graphConfigFile: file, includeDenseNetwork: true).isEmpty)
        #expect(try back.graphJSON() == model.graphJSON())
        #expect(try back.graphJSON().serialized() + "\n" == String(contentsOfFile: file, encoding: .utf8))
        let graph = try GraphConfig(file: file)
        #expect(graph.modelName == "round_trip")
        #expect(graph.input == dataInput)
        #expect(graph.embeddings == [localizedEmbedding])
        #expect(graph.layers == [split, layer])
    }

    @Test("an embedding without an optimizer is written with the model's and reads back with it explicit; vocabulary = per GPU × G")
    func embeddingOptimizer() throws {
        var embedding = localizedEmbedding
        embedding.optimizer = nil
        let adam = CreateOptimizer(optimizerType: .adam, updateType: .lazyGlobal, epsilon: 1e-4)
        let entry = embedding.hugeCTRJSON(modelOptimizer: adam, devices: 4)
        #expect(entry["optimizer"] == ["type": "Adam", "update_type": "LazyGlobal",
                                       "adam_hparam": ["beta1": .float(0.9), "beta2": .float(0.999), "epsilon": .float(1e-4)]])
        // 2 MB / ((1 + 3 Adam LazyGlobal states) · 4 bytes · 4) = 32768 rows per GPU, × 4 GPUs.
        #expect(entry["sparse_embedding_hparam"] == ["workspace_size_per_gpu_in_mb": 2, "max_vocabulary_size_global": 131072,
                                                     "embedding_vec_size": 4, "combiner": "mean", "slot_size_array": [5, 6, 7]])
        let root: JSONValue = ["layers": [.object(dataInput.hugeCTRJSON()), .object(entry)]]
        let back = try GraphConfig(hugeCTRJSON: root)
        #expect(back.embeddings[0].optimizer == adam)
        var expected = embedding
        expected.optimizer = adam
        #expect(back.embeddings == [expected])
    }

    @Test("several labels are written name-sorted with their dims")
    func multiLabel() throws {
        let input = Input(labelDims: [2, 1], labelNames: ["liked", "clicked"], denseDim: 3, denseName: "d",
                          dataReaderSparseParamArray: [DataReaderSparseParam("s", 1, true, 2)])
        let entry = input.hugeCTRJSON()
        #expect(entry["label"] == ["top": ["clicked", "liked"], "label_dim": [1, 2]])
        let back = try GraphConfig(hugeCTRJSON: ["layers": [.object(entry)]]).input
        #expect(back.labelNames == ["clicked", "liked"] && back.labelDims == [1, 2])
    }

    @Test("a tensor read by two layers is written with HugeCTR's Slice, which needs a compiled model")
    func fanOutSlice() throws {
        let sparse = DataReaderSparseParam("data1", 1, true, 6)
        let model = try Model(Solver(seed: 1, batchsizeEval: 16, batchsize: 16), unread, CreateOptimizer())
        model.printsProgress = false
        model.add(Input(labelDim: 1, labelName: "label", denseDim: 13, denseName: "dense", dataReaderSparseParamArray: [sparse]))
        let (embedding, layers) = Recipes.dcn(sparseInput: sparse, vecSize: 8, workspaceMB: 1, crossLayers: 2, deepWidth: 16)
        model.add(embedding)
        layers.forEach(model.add)
        let error = #expect(throws: SwiftCTRError.self) { try model.graphJSON() }
        #expect(error?.message.contains("tensor 'concat1' is read by 2 layers") == true)
        #expect(error?.message.contains("Call compile() before graphToJSON") == true)
        try model.compile()
        let graph = try GraphConfig(hugeCTRJSON: model.graphJSON())
        // reshape1 is 6·8 = 48 wide, concat1 48 + 13 = 61.
        let slice = DenseLayer(.slice, bottomNames: ["concat1"], topNames: ["concat1_slice0", "concat1_slice1"],
                               ranges: [[0, 61], [0, 61]])
        #expect(graph.layers[2] == slice)
        #expect(graph.layers[3].bottomNames == ["concat1_slice0"] && graph.layers[4].bottomNames == ["concat1_slice1"])
        // Read back, the Slice is an ordinary layer and nothing more is inserted.
        let back = try Model(Solver(seed: 1, batchsizeEval: 16, batchsize: 16), unread, CreateOptimizer())
        back.construct(graph)
        #expect(try back.graphJSON() == model.graphJSON())
    }

    @Test("without the dense network only the Data layer and the embeddings are read; new dense layers follow")
    func withoutDenseNetwork() throws {
        let folder = jsonScratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/partial.json"
        var text = try String(contentsOfFile: examplesFolder + "/wdl_tiny.json", encoding: .utf8)
        text = text.replacingOccurrences(of: "\"type\": \"ReLU\"", with: "\"type\": \"NoSuchLayer\"")
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let graph = try GraphConfig(file: file, includeDenseNetwork: false)
        #expect(graph.embeddings.map(\.sparseEmbeddingName) == ["sparse_embedding2", "sparse_embedding1"])
        #expect(graph.layers.isEmpty)
        #expect(throws: SwiftCTRError.self) { try GraphConfig(file: file) }
    }

    @Test("the complete example of spec §2.7 reads and writes back byte for byte")
    func specExampleBytes() throws {
        let file = examplesFolder + "/wdl_tiny.json"
        let graph = try GraphConfig(file: file)
        #expect(graph.warnings.isEmpty)
        #expect(graph.modelName == "wdl_tiny")
        #expect(graph.embeddings.map(\.workspaceSizePerGPUInMB) == [24, 342])
        #expect(try graph.hugeCTRJSON(modelOptimizer: CreateOptimizer()).serialized() + "\n" == String(contentsOfFile: file, encoding: .utf8))
    }

    @Test("the complete example of spec §2.7 loads and trains a few iterations on generated data")
    func specExampleTrains() throws {
        let folder = jsonScratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // wide_data: 2 slots of up to 2 keys, deep_data: 3 one-hot slots, 13 dense values.
        let config = SyntheticConfig(numTrain: 640, numEval: 200, slotSizes: [20, 20, 30, 30, 30], nnzPerSlot: [2, 2, 1, 1, 1],
                                     denseDim: 13, seed: 3, i64Keys: false, check: .sum)
        let dataset = try SyntheticGenerator.generate(config, into: folder)
        let reader = DataReaderParams(dataReaderType: .norm, source: [dataset.trainList], evalSource: dataset.evalList,
                                      checkType: .sum, numWorkers: 1)
        let model = try Model(Solver(modelName: "wdl_tiny", seed: 5, maxEvalBatches: 2, batchsizeEval: 100, batchsize: 64),
                              reader, CreateOptimizer())
        model.printsProgress = false
        let file = examplesFolder + "/wdl_tiny.json"
        #expect(try model.constructFromJSON(graphConfigFile: file, includeDenseNetwork: true).isEmpty)
        try model.compile()
        let records = try model.fit(maxIter: 4, display: 1, evalInterval: 4)
        let losses = records.filter { $0.evalAUC == nil }.map(\.loss)
        #expect(losses.count == 4 && losses.allSatisfy { $0.isFinite && $0 > 0 })
        let auc = try #require(records.last?.evalAUC)
        #expect(auc > 0 && auc < 1)
        #expect(try model.graphJSON().serialized() + "\n" == String(contentsOfFile: file, encoding: .utf8))
    }

    @Test("Examples/json holds a JSON for each sample model")
    func examplesPresent() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: examplesFolder).filter { $0.hasSuffix(".json") }
        #expect(Set(files).isSuperset(of: expectedExamples))
    }

    @Test("each example compiles (swiftctr summary's path) and a graph-JSON example writes back as it is",
          arguments: expectedExamples)
    func example(file: String) throws {
        let path = examplesFolder + "/" + file
        let config = try ModelConfig(file: path)
        #expect(config.warnings.isEmpty)
        let model: Model
        switch config {
        case .graph(let graph):
            model = try Model(Solver(modelName: graph.modelName, seed: 1, batchsizeEval: 16, batchsize: 16), unread, CreateOptimizer())
            model.construct(graph)
        case .legacy(var legacy):
            (legacy.solver.batchsize, legacy.solver.batchsizeEval) = (16, 16)
            model = try legacy.makeModel()
        }
        try model.compile()
        #expect(model.summary().contains("memory plan"))
        if case .graph = config {
            #expect(try model.graphJSON() == JSONValue(file: path))
        }
    }
}
