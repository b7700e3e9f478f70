// HugeCTR's samples/dlrm/dlrm_kaggle_fp32.py (spec §7.6) in SwiftCTR: the model of
// Examples/json/dlrm.json, line for line as python/samples/dlrm.py builds it.
//
// Data: by default HugeCTR's Criteo Kaggle Raw files (./train_data.bin, 36672493 samples, and
// ./test_data.bin, 4584062): 13 dense values and 26 one-hot slots. Without them, write a
// synthetic dataset of the same shape and pass its folder:
//
//     swift run swiftctr generate --out dlrm_data
//     swift run -c release dlrm-example dlrm_data
//
// `swiftctr generate` writes Norm files listed in train_list.txt and eval_list.txt; a folder
// argument switches to those, and to the key width its dataset.json records.
// Differences from the sample (Examples/json/README.md): the OneHot slot_size_array is `swiftctr
// generate`'s default slot sizes (the sample's Kaggle sizes, spec §7.6, hold 33 M rows: put them
// back to train on Kaggle's files); one device (8).
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
    let solver = CreateSolver(modelName: "dlrm",
                              lr: 0.5,
                              warmupSteps: 300,
                              maxEvalBatches: 70,
                              batchsizeEval: 65536,
                              batchsize: 65536,
                              vvgpu: [[0]],
                              repeatDataset: true,
                              i64InputKey: i64InputKey)
    // HugeCTR's reader, or the Norm files of a `swiftctr generate` folder.
    let reader = dataFolder.map {
        DataReaderParams(dataReaderType: .norm, source: ["\($0)/train_list.txt"],
                         evalSource: "\($0)/eval_list.txt", checkType: .sum)
    } ?? DataReaderParams(dataReaderType: .raw,
                          source: ["./train_data.bin"],
                          evalSource: "./test_data.bin",
                          checkType: .none,
                          numSamples: 36672493,
                          evalNumSamples: 4584062)
    let optimizer = CreateOptimizer(optimizerType: .sgd,
                                    updateType: .local,
                                    atomicUpdate: true)
    let model = try Model(solver, reader, optimizer)
    model.add(Input(labelDim: 1, labelName: "label",
                    denseDim: 13, denseName: "dense",
                    dataReaderSparseParamArray:
                        [DataReaderSparseParam("data1", 2, false, 26)]))
    model.add(SparseEmbedding(embeddingType: .localizedSlotSparseEmbeddingOneHot,
                              workspaceSizePerGPUInMB: 0,
                              embeddingVecSize: 128,
                              combiner: "sum",
                              sparseEmbeddingName: "sparse_embedding1",
                              bottomName: "data1",
                              slotSizeArray: [10196, 929, 704, 350, 948, 2, 319, 62, 2, 9310, 3566,
                                              3364, 2, 108, 366, 3, 2, 46, 2, 10225, 7076, 9971,
                                              3045, 456, 3, 2],
                              optimizer: optimizer))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["dense"],
                         topNames: ["fc1"],
                         numOutput: 512))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc1"],
                         topNames: ["relu1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu1"],
                         topNames: ["fc2"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc2"],
                         topNames: ["relu2"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu2"],
                         topNames: ["fc3"],
                         numOutput: 128))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc3"],
                         topNames: ["relu3"]))
    model.add(DenseLayer(.interaction,
                         bottomNames: ["relu3", "sparse_embedding1"],
                         topNames: ["interaction1"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["interaction1"],
                         topNames: ["fc4"],
                         numOutput: 1024))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc4"],
                         topNames: ["relu4"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu4"],
                         topNames: ["fc5"],
                         numOutput: 1024))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc5"],
                         topNames: ["relu5"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu5"],
                         topNames: ["fc6"],
                         numOutput: 512))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc6"],
                         topNames: ["relu6"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu6"],
                         topNames: ["fc7"],
                         numOutput: 256))
    model.add(DenseLayer(.relu,
                         bottomNames: ["fc7"],
                         topNames: ["relu7"]))
    model.add(DenseLayer(.innerProduct,
                         bottomNames: ["relu7"],
                         topNames: ["fc8"],
                         numOutput: 1))
    model.add(DenseLayer(.binaryCrossEntropyLoss,
                         bottomNames: ["fc8", "label"],
                         topNames: ["loss"]))
    try model.compile()
    model.summary()
    try model.graphToJSON(graphConfigFile: graphOnly ?? "dlrm.json")
    if graphOnly != nil { exit(0) }
    try model.fit(maxIter: 600, display: 50, evalInterval: 100,
                  snapshot: 10000000, snapshotPrefix: "dlrm")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
