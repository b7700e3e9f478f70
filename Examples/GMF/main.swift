// HugeCTR's samples/ncf/gmf.py (spec §7.7) in SwiftCTR: the model of Examples/json/gmf.json,
// line for line as python/samples/gmf.py builds it.
//
// Data: by default HugeCTR's MovieLens 20M Norm files (./data/ml-20m/train_filelist.txt and
// ./data/ml-20m/test_filelist.txt, Check_t.Non): 1 dense value (a dummy 0), 2 one-key slots
// (user, item). Without them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out ncf_data --dense-dim 1 --slot-sizes 5000,3000
//     swift run -c release gmf-example ncf_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 8 MB (60).
//
// With SWIFTCTR_EXAMPLE_GRAPH_ONLY=FILE set, it writes the graph JSON to FILE after compiling
// and exits before reading any data (scripts/examples-check.sh).
import Foundation
import SwiftCTR

let dataFolder = CommandLine.arguments.dropFirst().first
let graphOnly = ProcessInfo.processInfo.environment["SWIFTCTR_EXAMPLE_GRAPH_ONLY"]

do {
    var i64InputKey = false
    if let dataFolder, FileManager.default.fileExists(atPath: "\(dataFolder)/dataset.json") {
        i64InputKey = try SyntheticGenerator.load(directory: dataFolder).0.i64Keys
    }
    var solver = CreateSolver(modelName: "gmf",
                              lr: 0.0045,
                              maxEvalBatches: 100,
                              batchsizeEval: 27700,
                              batchsize: 175480,
                              vvgpu: [[0]],
                              repeatDataset: false,
                              i64InputKey: i64InputKey)
    solver.metricsSpec = [.hitRate: 0.8, .averageLoss: 0.0, .auc: 1.0]
    // HugeCTR's reader, or the Norm files of a `swiftctr generate` folder.
    let reader = dataFolder.map {
        DataReaderParams(dataReaderType: .norm, source: ["\($0)/train_list.txt"],
                         evalSource: "\($0)/eval_list.txt", checkType: .sum)
    } ?? DataReaderParams(dataReaderType: .norm,
                          source: ["./data/ml-20m/train_filelist.txt"],
                          evalSource: "./data/ml-20m/test_filelist.txt",
                          checkType: .none,
                          numWorkers: 10)
    let optimizer = CreateOptimizer(optimizerType: .adam,
                                    updateType: .global,
                                    beta1: 0.25,
                                    beta2: 0.5,
                                    epsilon: 0.001)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 1, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("data", 1, true, 2)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 8,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "gmf_embedding",
                              bottomName: "data",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["gmf_embedding"],
                         topNames: ["reshape1"],
                         leadingDim: 32))
    model.add(DenseLayer(.slice,
                         bottomNames: ["reshape1"],
                         topNames: ["user", "item"],
                         ranges: [[0, 15], [16, 31]]))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["user", "item"],
                         topNames: ["multiply1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["multiply1"],
                         topNames: ["gmf_out"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["gmf_out", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "gmf.json")
    if graphOnly != nil { exit(0) }
    try model.fit(numEpochs: 10, display: 200, evalInterval: 200,
                  snapshot: 100000, snapshotPrefix: "gmf")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
