// HugeCTR's samples/mmoe/mmoe.py (spec §7.8) in SwiftCTR: the model of Examples/json/mmoe.json,
// line for line as python/samples/mmoe.py builds it.
//
// Data: by default HugeCTR's UCI Census-Income Parquet files
// (./data/census_parquet/file_names.txt and file_names_val.txt): two labels (50k_label,
// married_label), no dense values, 32 one-key slots. Without them, write a synthetic dataset of
// the same shape and pass its folder:
//
//     swift run swiftctr generate --out mmoe_data --label-dim 2 --dense-dim 0 --slot-sizes 100$(printf ',100%.0s' {1..31})
//     swift run -c release mmoe-example mmoe_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): workspace 8 MB (1000).
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
    let solver = CreateSolver(modelName: "mmoe",
                              lr: 0.001,
                              maxEvalBatches: 100,
                              batchsizeEval: 762,
                              batchsize: 641,
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
    model.add(DenseLayer(.slice,
                         bottomNames: ["reshape_embedding"],
                         topNames: ["expert_emb", "gating_emb"],
                         ranges: [[0, 512], [0, 512]]))
    model.add(DenseLayer(.slice,
                         bottomNames: ["expert_emb"],
                         topNames: ["expert0_in", "expert1_in", "expert2_in"],
                         ranges: [[0, 512], [0, 512], [0, 512]]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["expert0_in"],
                         topNames: ["e0_fc1"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["e0_fc1"],
                         topNames: ["e0_relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["e0_relu1"],
                         topNames: ["e0_dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["e0_dropout1"],
                         topNames: ["e0_fc2"],
                         numOutput: 128))
    model.add(DenseLayer(.relu,
                         bottomNames: ["e0_fc2"],
                         topNames: ["e0_relu2"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["e0_relu2"],
                         topNames: ["e0_dropout2"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.slice,
                         bottomNames: ["e0_dropout2"],
                         topNames: ["e0_out_A", "e0_out_B"],
                         ranges: [[0, 128], [0, 128]]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["expert1_in"],
                         topNames: ["e1_fc1"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["e1_fc1"],
                         topNames: ["e1_relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["e1_relu1"],
                         topNames: ["e1_dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["e1_dropout1"],
                         topNames: ["e1_fc2"],
                         numOutput: 128))
    model.add(DenseLayer(.relu,
                         bottomNames: ["e1_fc2"],
                         topNames: ["e1_relu2"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["e1_relu2"],
                         topNames: ["e1_dropout2"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.slice,
                         bottomNames: ["e1_dropout2"],
                         topNames: ["e1_out_A", "e1_out_B"],
                         ranges: [[0, 128], [0, 128]]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["expert2_in"],
                         topNames: ["e2_fc1"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["e2_fc1"],
                         topNames: ["e2_relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["e2_relu1"],
                         topNames: ["e2_dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["e2_dropout1"],
                         topNames: ["e2_fc2"],
                         numOutput: 128))
    model.add(DenseLayer(.relu,
                         bottomNames: ["e2_fc2"],
                         topNames: ["e2_relu2"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["e2_relu2"],
                         topNames: ["e2_dropout2"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.slice,
                         bottomNames: ["e2_dropout2"],
                         topNames: ["e2_out_A", "e2_out_B"],
                         ranges: [[0, 128], [0, 128]]))
    model.add(DenseLayer(.slice,
                         bottomNames: ["gating_emb"],
                         topNames: ["gateA_in", "gateB_in"],
                         ranges: [[0, 512], [0, 512]]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["gateA_in"],
                         topNames: ["gA_dense"],
                         numOutput: 3))
    model.add(DenseLayer(.softmax,
                         bottomNames: ["gA_dense"],
                         topNames: ["gA_softmax"]))
    model.add(DenseLayer(.slice,
                         bottomNames: ["gA_softmax"],
                         topNames: ["gA_e0", "gA_e1", "gA_e2"],
                         ranges: [[0, 1], [1, 2], [2, 3]]))
    model.add(DenseLayer(.scale,
                         bottomNames: ["gA_e0"],
                         topNames: ["gA_e0_scaled"],
                         factor: 128.0,
                         axis: 0))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["e0_out_A", "gA_e0_scaled"],
                         topNames: ["e0_A_gated"]))
    model.add(DenseLayer(.scale,
                         bottomNames: ["gA_e1"],
                         topNames: ["gA_e1_scaled"],
                         factor: 128.0,
                         axis: 0))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["e1_out_A", "gA_e1_scaled"],
                         topNames: ["e1_A_gated"]))
    model.add(DenseLayer(.scale,
                         bottomNames: ["gA_e2"],
                         topNames: ["gA_e2_scaled"],
                         factor: 128.0,
                         axis: 0))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["e2_out_A", "gA_e2_scaled"],
                         topNames: ["e2_A_gated"]))
    model.add(DenseLayer(.add,
                         bottomNames: ["e0_A_gated", "e1_A_gated", "e2_A_gated"],
                         topNames: ["tower_A_input"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["gateB_in"],
                         topNames: ["gB_dense"],
                         numOutput: 3))
    model.add(DenseLayer(.softmax,
                         bottomNames: ["gB_dense"],
                         topNames: ["gB_softmax"]))
    model.add(DenseLayer(.slice,
                         bottomNames: ["gB_softmax"],
                         topNames: ["gB_e0", "gB_e1", "gB_e2"],
                         ranges: [[0, 1], [1, 2], [2, 3]]))
    model.add(DenseLayer(.scale,
                         bottomNames: ["gB_e0"],
                         topNames: ["gB_e0_scaled"],
                         factor: 128.0,
                         axis: 0))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["e0_out_B", "gB_e0_scaled"],
                         topNames: ["e0_B_gated"]))
    model.add(DenseLayer(.scale,
                         bottomNames: ["gB_e1"],
                         topNames: ["gB_e1_scaled"],
                         factor: 128.0,
                         axis: 0))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["e1_out_B", "gB_e1_scaled"],
                         topNames: ["e1_B_gated"]))
    model.add(DenseLayer(.scale,
                         bottomNames: ["gB_e2"],
                         topNames: ["gB_e2_scaled"],
                         factor: 128.0,
                         axis: 0))
    model.add(DenseLayer(.elementwiseMultiply,
                         bottomNames: ["e2_out_B", "gB_e2_scaled"],
                         topNames: ["e2_B_gated"]))
    model.add(DenseLayer(.add,
                         bottomNames: ["e0_B_gated", "e1_B_gated", "e2_B_gated"],
                         topNames: ["tower_B_input"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["tower_A_input"],
                         topNames: ["A_fc1"],
                         numOutput: 64))
    model.add(DenseLayer(.relu,
                         bottomNames: ["A_fc1"],
                         topNames: ["A_relu1"]))
    model.add(DenseLayer(.dropout,
                         bottomNames: ["A_relu1"],
                         topNames: ["A_dropout1"],
                         dropoutRate: 0.5))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["A_dropout1"],
                         topNames: ["A_fc2"],
                         numOutput: 1))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["tower_B_input"],
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
                         topNames: ["B_fc2"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["A_fc2", "50k_label"],
                         topNames: ["lossA"]))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["B_fc2", "married_label"],
                         topNames: ["lossB"]))
    try model.compile(lossNames: ["50k_label", "married_label"], lossWeights: [0.5, 0.5])
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "mmoe.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 10000, display: 1000, evalInterval: 1000,
                  snapshot: 1000000, snapshotPrefix: "mmoe")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
