// HugeCTR's samples/dcn/dcn.py, line for line in SwiftCTR.
//
// Data: by default the Criteo Norm files at HugeCTR's paths (./dcn_data/file_list.txt and
// ./dcn_data/file_list_test.txt, uint32 keys, Check_t.Sum). Without Criteo, write a synthetic
// dataset of the same shape (26 slots of at most 2 keys, 13 dense) and pass its folder:
//
//     swift run swiftctr generate --out dcn_data --nnz 2
//     swift run -c release dcn-example dcn_data
//
// `swiftctr generate` names its lists train_list.txt and eval_list.txt and writes int64 keys; the
// optional folder argument switches to those names, and to the key width its dataset.json records.
import Foundation
import SwiftCTR

let dataFolder = CommandLine.arguments.dropFirst().first
let trainList = dataFolder.map { "\($0)/train_list.txt" } ?? "./dcn_data/file_list.txt"
let evalList = dataFolder.map { "\($0)/eval_list.txt" } ?? "./dcn_data/file_list_test.txt"

do {
    var i64InputKey = false
    if let dataFolder, FileManager.default.fileExists(atPath: "\(dataFolder)/dataset.json") {
        i64InputKey = try SyntheticGenerator.load(directory: dataFolder).0.i64Keys
    }
    // Swift keeps arguments in declaration order, so lr comes before the batch sizes here.
    let solver = CreateSolver(lr: 0.001,
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
                                    epsilon: 0.0001)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 13, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("data1", 2, false, 26)]))
    // 69 MB holds about 377k rows of 16 floats with Adam's two states: enough for the generated
    // data; the full Criteo vocabulary (1.2M keys) on one device needs about 225.
    model.add(SparseEmbedding(embeddingType: .distributedSlotSparseEmbeddingHash,
                              workspaceSizePerGPUInMB: 69,
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
                         bottomNames: ["reshape1", "dense"], topNames: ["concat1"]))
    model.add(DenseLayer(.multiCross,
                         bottomNames: ["concat1"],
                         topNames: ["multicross1"],
                         numLayers: 6))
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
    try model.graphToJSON(graphConfigFile: "dcn.json")
    try model.fit(maxIter: 2300, display: 200, evalInterval: 1000, snapshot: 1000000, snapshotPrefix: "dcn")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
