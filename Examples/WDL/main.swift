// HugeCTR's samples/wdl/wdl.py (v23.08) (spec §7.2) in SwiftCTR: the model of
// Examples/json/wdl.json, line for line as python/samples/wdl.py builds it.
//
// Data: by default the Criteo Norm files at HugeCTR's paths (./criteo_data/file_list.txt and
// ./criteo_data/file_list_test.txt, Check_t.Sum): 13 dense values, 1 wide slot of at most 30
// crossed keys, then 26 deep slots of at most 2 keys. Without them, write a synthetic dataset of
// the same shape and pass its folder:
//
//     swift run swiftctr generate --out wdl_data --slot-sizes 2000$(printf ',50%.0s' {1..26}) --nnz 30$(printf ',2%.0s' {1..26})
//     swift run -c release wdl-example wdl_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspaces 2 and 24 MB (69 and 1074,
// sized for Criteo).
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
    let solver = CreateSolver(modelName: "wdl",
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
                                    updateType: .global,
                                    beta1: 0.9,
                                    beta2: 0.999,
                                    epsilon: 1e-7)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 13, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("wide_data", 30, true, 1),
                         DataReaderSparseParam("deep_data", 2, false, 26)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 2,
                              embeddingVecSize: 1,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding2",
                              bottomName: "wide_data",
                              optimizer: optimizer))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 24,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding1",
                              bottomName: "deep_data",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding1"],
                         topNames: ["reshape1"],
                         leadingDim: 416))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding2"],
                         topNames: ["reshape2"],
                         leadingDim: 1))
    model.add(DenseLayer(.concat,
                         bottomNames: ["reshape1", "dense"],
                         topNames: ["concat1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["concat1"],
                         topNames: ["fc1"],
                         numOutput: 1024))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc1"],
                         topNames: ["relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["relu1"],
                         topNames: ["dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dropout1"],
                         topNames: ["fc2"],
                         numOutput: 1024))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc2"],
                         topNames: ["relu2"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["relu2"],
                         topNames: ["dropout2"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dropout2"],
                         topNames: ["fc3"],
                         numOutput: 1))
    model.add(DenseLayer(.add,
                         bottomNames: ["fc3", "reshape2"],
                         topNames: ["add1"]))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["add1", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "wdl.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 2300, display: 200, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "wdl")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
