// HugeCTR's samples/ncf/ncf.py (spec §7.7) in SwiftCTR: the model of Examples/json/ncf.json,
// line for line as python/samples/ncf.py builds it.
//
// Data: by default HugeCTR's MovieLens 20M Norm files (./data/ml-20m/train_filelist.txt and
// ./data/ml-20m/test_filelist.txt, Check_t.Non): 1 dense value (a dummy 0), 2 one-key slots
// (user, item). Without them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out ncf_data --dense-dim 1 --slot-sizes 5000,3000
//     swift run -c release ncf-example ncf_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 16 MB (147).
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
    var solver = CreateSolver(modelName: "ncf",
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
                                    epsilon: 1e-7)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 1, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("data", 1, true, 2)]))
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 16,
                              embeddingVecSize: 64,
                              combiner: "sum",
                              sparseEmbeddingName: "mlp_embedding",
                              bottomName: "data",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["mlp_embedding"],
                         topNames: ["reshape1"],
                         leadingDim: 128))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["reshape1"],
                         topNames: ["fc1"],
                         numOutput: 256))
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
                         numOutput: 256))
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
                         numOutput: 128))
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
                         numOutput: 64))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc4"],
                         topNames: ["relu4"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["relu4"],
                         topNames: ["dropout4"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dropout4"],
                         topNames: ["mlp_out"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["mlp_out", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "ncf.json")
    if graphOnly != nil { exit(0) }
    try model.fit(numEpochs: 10, display: 200, evalInterval: 200,
                  snapshot: 1000000, snapshotPrefix: "ncf")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
