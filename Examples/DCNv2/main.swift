// HugeCTR's DCN v2 model of test/pybind_test/model_test.py (spec §7.1) in SwiftCTR: the model of
// Examples/json/dcn_v2.json, line for line as python/samples/dcn_v2.py builds it.
//
// Data: by default the Criteo Norm files at HugeCTR's paths (./dcn_data/file_list.txt and
// ./dcn_data/file_list_test.txt, Check_t.Sum): 13 dense values and 26 slots of at most 2 keys
// (Criteo). Without them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out dcn_data --nnz 2
//     swift run -c release dcn-v2-example dcn_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 24 MB (DCN's 69 is per GPU of
// 4).
//
// With SWIFTCTR_EXAMPLE_GRAPH_ONLY=FILE set, it writes the graph JSON to FILE after compiling
// and exits before reading any data (scripts/examples-check.sh).
import Foundation
import SwiftCTR

let dataFolder = CommandLine.arguments.dropFirst().first
let trainList = dataFolder.map { "\($0)/train_list.txt" } ?? "./dcn_data/file_list.txt"
let evalList = dataFolder.map { "\($0)/eval_list.txt" } ?? "./dcn_data/file_list_test.txt"
let graphOnly = ProcessInfo.processInfo.environment["SWIFTCTR_EXAMPLE_GRAPH_ONLY"]

do {
    var i64InputKey = false
    if let dataFolder, FileManager.default.fileExists(atPath: "\(dataFolder)/dataset.json") {
        i64InputKey = try SyntheticGenerator.load(directory: dataFolder).0.i64Keys
    }
    let solver = CreateSolver(modelName: "dcn_v2",
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
                        [DataReaderSparseParam("data1", 2, false, 26)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 24,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding1",
                              bottomName: "data1",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding1"],
                         topNames: ["reshape1"],
                         leadingDim: 416))
    model.add(DenseLayer(.concat,
                         bottomNames: ["reshape1", "dense"],
                         topNames: ["concat1"]))
    model.add(DenseLayer(.multiCross,
                         bottomNames: ["concat1"],
                         topNames: ["multicross1"],
                         numLayers: 3,
                         projectionDim: 512))
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
    model.add(DenseLayer(.concat,
                         bottomNames: ["dropout2", "multicross1"],
                         topNames: ["concat2"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["concat2"],
                         topNames: ["fc3"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["fc3", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "dcn_v2.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 2300, display: 200, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "dcn_v2")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
