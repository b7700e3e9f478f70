// HugeCTR's samples/criteo_multi_slots/criteo_multi_slots.py (spec §7.4) in SwiftCTR: the model
// of Examples/json/criteo_multi_slots.json, line for line as
// python/samples/criteo_multi_slots.py builds it.
//
// Data: by default the Criteo Norm files at HugeCTR's paths (./criteo_data/file_list.txt and
// ./criteo_data/file_list_test.txt, Check_t.Sum): no dense values, 10 slots of at most 10 keys.
// Without them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out criteo_data10 --dense-dim 0 --slot-sizes 6000$(printf ',6000%.0s' {1..9}) --nnz 10
//     swift run -c release criteo-multi-slots-example criteo_data10
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 48 MB; one device; snapshot
// prefix "criteo_multi_slots" (the sample's is "deepfm").
//
// With SWIFTCTR_EXAMPLE_GRAPH_ONLY=FILE set, it writes the graph JSON to FILE after compiling
// and exits before reading any data (scripts/examples-check.sh).
import Foundation
import SwiftCTR

let dataFolder = CommandLine.arguments.dropFirst().first
let trainList = dataFolder.map { "\($0)/train_list.txt" } ?? "./criteo_data/file_list.txt"
let evalList = dataFolder.map { "\($0)/eval_list.txt" } ?? "./criteo_data/file_list_test.txt"
let graphOnly = ProcessInfo.processInfo.environment["SWIFTCTR_EXAMPLE_GRAPH_ONLY"]

do {
    var i64InputKey = false
    if let dataFolder, FileManager.default.fileExists(atPath: "\(dataFolder)/dataset.json") {
        i64InputKey = try SyntheticGenerator.load(directory: dataFolder).0.i64Keys
    }
    let solver = CreateSolver(modelName: "criteo_multi_slots",
                              lr: 0.001,
                              maxEvalBatches: 300,
                              batchsizeEval: 16384,
                              batchsize: 16384,
                              vvgpu: [[0]],
                              repeatDataset: true,
                              i64InputKey: i64InputKey)
    let reader = DataReaderParams(dataReaderType: .norm,
                                  source: [trainList],
                                  evalSource: evalList,
                                  checkType: .sum)
    let optimizer = CreateOptimizer(optimizerType: .adam,
                                    updateType: .local,
                                    beta1: 0.9,
                                    beta2: 0.999,
                                    epsilon: 1e-7)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 0, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("data1", 10, false, 10)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 48,
                              embeddingVecSize: 64,
                              combiner: "mean",
                              sparseEmbeddingName: "sparse_embedding1",
                              bottomName: "data1",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding1"],
                         topNames: ["reshape1"],
                         leadingDim: 640))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["reshape1"],
                         topNames: ["fc1"],
                         numOutput: 200))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc1"],
                         topNames: ["relu1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu1"],
                         topNames: ["fc2"],
                         numOutput: 200))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc2"],
                         topNames: ["relu2"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu2"],
                         topNames: ["fc3"],
                         numOutput: 200))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc3"],
                         topNames: ["relu3"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu3"],
                         topNames: ["fc4"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["fc4", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "criteo_multi_slots.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 2300, display: 200, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "criteo_multi_slots")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
