// HugeCTR's samples/deepfm/deepfm.py (spec §7.3) in SwiftCTR: the model of
// Examples/json/deepfm.json, line for line as python/samples/deepfm.py builds it.
//
// Data: by default the Criteo Norm files at HugeCTR's paths (./criteo_data/file_list.txt and
// ./criteo_data/file_list_test.txt, Check_t.Sum): 13 dense values and 26 slots of at most 2 keys
// (Criteo). Without them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out deepfm_data --nnz 2
//     swift run -c release deepfm-example deepfm_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 16 MB (183).
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
    let solver = CreateSolver(modelName: "deepfm",
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
                              workspaceSizePerGPUInMB: 16,
                              embeddingVecSize: 11,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding1",
                              bottomName: "data1",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding1"],
                         topNames: ["reshape1"],
                         leadingDim: 11))
    model.add(DenseLayer(.slice,
                         bottomNames: ["reshape1"],
                         topNames: ["slice11", "slice12"],
                         ranges: [[0, 10], [10, 11]]))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["slice11"],
                         topNames: ["reshape2"],
                         leadingDim: 260))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["slice12"],
                         topNames: ["reshape3"],
                         leadingDim: 26))
    model.add(DenseLayer(.weightMultiply,
                         bottomNames: ["dense"],
                         topNames: ["weight_multiply1"],
                         weightDims: [13, 10]))
    model.add(DenseLayer(.weightMultiply,
                         bottomNames: ["dense"],
                         topNames: ["weight_multiply2"],
                         weightDims: [13, 1]))
    model.add(DenseLayer(.concat,
                         bottomNames: ["reshape2", "weight_multiply1"],
                         topNames: ["concat1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["concat1"],
                         topNames: ["fc1"],
                         numOutput: 400))
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
                         numOutput: 400))
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
                         numOutput: 400))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc3"],
                         topNames: ["relu3"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["relu3"],
                         topNames: ["dropout3"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dropout3"],
                         topNames: ["fc4"],
                         numOutput: 1))
    model.add(DenseLayer(.fmOrder2,
                         bottomNames: ["concat1"],
                         topNames: ["fmorder2"],
                         outDim: 10))
    model.add(DenseLayer(.reduceSum,
                         bottomNames: ["fmorder2"],
                         topNames: ["reducesum1"],
                         axis: 1))
    model.add(DenseLayer(.concat,
                         bottomNames: ["reshape3", "weight_multiply2"],
                         topNames: ["concat2"]))
    model.add(DenseLayer(.reduceSum,
                         bottomNames: ["concat2"],
                         topNames: ["reducesum2"],
                         axis: 1))
    model.add(DenseLayer(.add,
                         bottomNames: ["fc4", "reducesum1", "reducesum2"],
                         topNames: ["add"]))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["add", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "deepfm.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 2300, display: 200, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "deepfm")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
