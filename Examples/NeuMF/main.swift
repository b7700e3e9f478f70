// HugeCTR's samples/ncf/neumf.py (spec §7.7) in SwiftCTR: the model of Examples/json/neumf.json,
// line for line as python/samples/neumf.py builds it.
//
// Data: by default HugeCTR's MovieLens 20M Norm files (./data/ml-20m/train_filelist.txt and
// ./data/ml-20m/test_filelist.txt, Check_t.Non): 1 dense value (a dummy 0), 2 one-key slots
// (user, item). Without them, write a synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out ncf_data --dense-dim 1 --slot-sizes 5000,3000
//     swift run -c release neumf-example ncf_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 16 MB (180).
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
    var solver = CreateSolver(modelName: "neumf",
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
                              embeddingVecSize: 72,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding",
                              bottomName: "data",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["sparse_embedding"],
                         topNames: ["reshape1"],
                         leadingDim: 144))
    model.add(DenseLayer(.slice,
                         bottomNames: ["reshape1"],
                         topNames: ["mlp_embedding", "gmf_embedding"],
                         ranges: [[0, 127], [128, 143]]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["mlp_embedding"],
                         topNames: ["mlp_fc1"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["mlp_fc1"],
                         topNames: ["mlp_relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["mlp_relu1"],
                         topNames: ["mlp_dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["mlp_dropout1"],
                         topNames: ["mlp_fc2"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["mlp_fc2"],
                         topNames: ["mlp_relu2"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["mlp_relu2"],
                         topNames: ["mlp_dropout2"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["mlp_dropout2"],
                         topNames: ["mlp_fc3"],
                         numOutput: 128))
    model.add(DenseLayer(.relu,
                         bottomNames: ["mlp_fc3"],
                         topNames: ["mlp_relu3"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["mlp_relu3"],
                         topNames: ["mlp_dropout3"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["mlp_dropout3"],
                         topNames: ["mlp_fc4"],
                         numOutput: 64))
    model.add(DenseLayer(.relu,
                         bottomNames: ["mlp_fc4"],
                         topNames: ["mlp_relu4"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["mlp_relu4"],
                         topNames: ["mlp_dropout4"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.slice,
                         bottomNames: ["gmf_embedding"],
                         topNames: ["gmf_user", "gmf_item"],
                         ranges: [[0, 7], [8, 15]]))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["gmf_user", "gmf_item"],
                         topNames: ["gmf_multiply"]))
    model.add(DenseLayer(.concat,
                         bottomNames: ["gmf_multiply", "mlp_dropout4"],
                         topNames: ["concat1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["concat1"],
                         topNames: ["neumf_out"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["neumf_out", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "neumf.json")
    if graphOnly != nil { exit(0) }
    try model.fit(numEpochs: 10, display: 200, evalInterval: 200,
                  snapshot: 100000, snapshotPrefix: "neumf")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
