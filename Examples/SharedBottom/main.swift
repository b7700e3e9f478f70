// HugeCTR's samples/mmoe/shared_bottom.py (spec §7.8) in SwiftCTR: the model of
// Examples/json/shared_bottom.json, line for line as python/samples/shared_bottom.py builds it.
//
// Data: by default HugeCTR's UCI Census-Income Parquet files
// (./data/census_parquet/file_names.txt and file_names_val.txt): two labels (50k_label,
// married_label), no dense values, 32 one-key slots. Without them, write a synthetic dataset of
// the same shape and pass its folder:
//
//     swift run swiftctr generate --out mmoe_data --label-dim 2 --dense-dim 0 --slot-sizes 100$(printf ',100%.0s' {1..31})
//     swift run -c release shared-bottom-example mmoe_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 8 MB (10000); snapshot prefix
// "shared_bottom" (the sample's is "mmoe").
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
    let solver = CreateSolver(modelName: "shared_bottom",
                              lr: 0.001,
                              maxEvalBatches: 100,
                              batchsizeEval: 1000,
                              batchsize: 1000,
                              vvgpu: [[0]],
                              repeatDataset: true,
                              i64InputKey: i64InputKey)
    // HugeCTR's reader, or the Norm files of a `swiftctr generate` folder.
    let reader = dataFolder.map {
        DataReaderParams(dataReaderType: .norm, source: ["\($0)/train_list.txt"],
                         evalSource: "\($0)/eval_list.txt", checkType: .sum)
    } ?? DataReaderParams(dataReaderType: .parquet,
                          source: ["./data/census_parquet/file_names.txt"],
                          evalSource: "./data/census_parquet/file_names_val.txt",
                          checkType: .sum,
                          numSamples: 199523,
                          evalNumSamples: 99762,
                          slotSizeArray: [91, 73622, 17, 1425, 3, 24, 15, 5, 10, 2, 3, 6, 8, 133, 114,
                                          1675, 6, 6, 51, 38, 8, 47, 10, 9, 10, 3, 4, 7, 5, 2, 52, 9])
    let optimizer = CreateOptimizer(optimizerType: .sgd,
                                    updateType: .local,
                                    atomicUpdate: true)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDims: [1, 1], labelNames: ["50k_label", "married_label"],
                    denseDim: 0, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("data", 1, true, 32)]))
    model.add(SparseEmbedding(embeddingType: .localizedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 8,
                              embeddingVecSize: 16,
                              combiner: "sum",
                              sparseEmbeddingName: "embedding",
                              bottomName: "data",
                              optimizer: optimizer))
    model.add(DenseLayer(.reshape,
                         bottomNames: ["embedding"],
                         topNames: ["reshape_embedding"],
                         leadingDim: 512))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["reshape_embedding"],
                         topNames: ["shared1"],
                         numOutput: 128))
    model.add(DenseLayer(.relu,
                         bottomNames: ["shared1"],
                         topNames: ["relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["relu1"],
                         topNames: ["dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dropout1"],
                         topNames: ["shared2"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["shared2"],
                         topNames: ["relu2"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["relu2"],
                         topNames: ["dropout2"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.slice,
                         bottomNames: ["dropout2"],
                         topNames: ["sliceA", "sliceB"],
                         ranges: [[0, 256], [0, 256]]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["sliceA"],
                         topNames: ["A_fc1"],
                         numOutput: 64))
    model.add(DenseLayer(.relu,
                         bottomNames: ["A_fc1"],
                         topNames: ["A_relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["A_fc1"],
                         topNames: ["A_dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["A_dropout1"],
                         topNames: ["A_out"],
                         numOutput: 1))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["sliceB"],
                         topNames: ["B_fc1"],
                         numOutput: 64))
    model.add(DenseLayer(.relu,
                         bottomNames: ["B_fc1"],
                         topNames: ["B_relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["B_relu1"],
                         topNames: ["B_dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["B_dropout1"],
                         topNames: ["B_out"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["A_out", "50k_label"],
                         topNames: ["lossA"]))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["B_out", "married_label"],
                         topNames: ["lossB"]))
    try model.compile(lossNames: ["50k_label", "married_label"], lossWeights: [0.5, 0.5])
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "shared_bottom.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 5000, display: 1000, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "shared_bottom")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
